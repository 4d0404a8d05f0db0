export * from './access-event.js';
export * from './coded-error.js';
export * from './ingest-event.js';
