export * from './errors.js';
export * from './validate-records.js';
export * from './reference-routes.js';
