export * from './console-action.js';
export * from './console-audit-trail.js';
export * from './console-events.js';
export * from './errors.js';
