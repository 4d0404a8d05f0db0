export * from './route-access.js';
