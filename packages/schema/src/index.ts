export * from './access-event.js';
export * from './ingest-event.js';
