export * from './signing-key.js';
export * from './checkpointer.js';
export * from './checkpoint-export.js';
export * from './log-tiles.js';
export * from './errors.js';
