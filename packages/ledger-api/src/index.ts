export * from './ledger-routes.js';
