export * from './route-access.js';
export { CONSOLE_API_ERRORS, ConsoleApiError, isConsoleApiError, type ConsoleApiErrorCode } from './errors.js';
export type { ConsoleRoute } from './access-control.js';
export {
  buildConsoleApp,
  CONSOLE_API_PREFIX,
  CONSOLE_DOCS_PREFIX,
  registerConsole,
  type BuildConsoleAppOptions,
  type ConsoleDeps,
} from './console-app.js';
export { CONSOLE_UI_CSP, CONSOLE_UI_PREFIX } from './console-ui.js';
export { CONSOLE_REDACT_PATHS, createConsoleLogger } from './console-logger.js';
export { CSRF_HEADER, SESSION_COOKIE } from './session-cookie.js';
export { ERROR_BODY_SCHEMA } from './session-routes.js';
export { DEFAULT_CONSOLE_PORT, parseConsoleConfig, type ConsoleConfig } from './config.js';
export { main } from './main.js';
export { registerAlertRoutes } from './routes/alerts.js';
export { registerSearchRoutes } from './routes/search.js';
export { registerAccessReportRoutes } from './routes/access-report.js';
export { registerConsoleRoutes, type ConsoleRouteDeps } from './routes/index.js';
