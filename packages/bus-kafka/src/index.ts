export * from './errors.js';
export * from './topic.js';
export * from './publisher.js';
export * from './consumer.js';
export * from './decode-event.js';
