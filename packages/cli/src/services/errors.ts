/**
 * Error catalogue of local service provisioning (`phi-audit services`). Codes are stable;
 * messages tell the user what to do next and never contain passwords.
 */

import { CodedError, codedErrorGuard } from '@phi-audit/schema';

export const SERVICES_ERROR_CODES = {
  /** A program the services need (java, mvn, clickhouse-server) is not installed. */
  SERVICES_MISSING_DEPENDENCY: 'SERVICES_MISSING_DEPENDENCY',
  /** Installing a package (apt-get) failed. */
  SERVICES_INSTALL_FAILED: 'SERVICES_INSTALL_FAILED',
  /** Resolving the Kafka jars with Maven failed. */
  SERVICES_KAFKA_JARS_FAILED: 'SERVICES_KAFKA_JARS_FAILED',
  /** `kafka-storage format` failed. */
  SERVICES_KAFKA_FORMAT_FAILED: 'SERVICES_KAFKA_FORMAT_FAILED',
  /** A service process exited or did not answer before the deadline. */
  SERVICES_START_TIMEOUT: 'SERVICES_START_TIMEOUT',
  /** A service could not be stopped. */
  SERVICES_STOP_FAILED: 'SERVICES_STOP_FAILED',
  /** Another process already listens on a port a service needs. */
  SERVICES_PORT_IN_USE: 'SERVICES_PORT_IN_USE',
  /** An environment override (port, directory) is malformed. */
  SERVICES_INVALID_CONFIG: 'SERVICES_INVALID_CONFIG',
  /** The ClickHouse users file cannot be rendered. */
  SERVICES_CLICKHOUSE_USERS: 'SERVICES_CLICKHOUSE_USERS',
} as const;

export type ServicesErrorCode = keyof typeof SERVICES_ERROR_CODES;

/** Every error `phi-audit services` throws. */
export class ServicesError extends CodedError<ServicesErrorCode> {
  override readonly name = 'ServicesError';
}

/** True when `err` is a ServicesError, optionally with the given code. */
export const isServicesError = codedErrorGuard(ServicesError);
