export {
  boundedIntEnv,
  clickhouseDatabaseEnv,
  clickhouseUrlEnv,
  envProblems,
  kafkaBrokersEnv,
  kafkaTopicEnv,
  LOG_LEVELS,
  logLevelEnv,
  presentEnv,
  type LogLevel,
} from './env-schemas.js';
export { isEntryPoint, runMain, type RunMainOptions } from './entry-point.js';
export { MetricsServer, startMetricsServer, type MetricsServerOptions } from './metrics-server.js';
export { createServiceLogger, SERVICE_REDACT_PATHS, type ServiceLoggerOptions } from './service-logger.js';
export { listenForStop, type StopReason, type StopSignals, type StopSignalsOptions } from './stop-signals.js';
