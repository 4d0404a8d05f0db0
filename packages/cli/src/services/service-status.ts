/** Names of the locally provisioned services. */
export type ServiceName = 'kafka' | 'clickhouse';

/** What `phi-audit services status` reports for one service. */
export interface ServiceStatus {
  readonly service: ServiceName;
  /** `starting`: the process runs but does not answer yet. */
  readonly state: 'running' | 'starting' | 'stopped';
  readonly pid?: number;
  /** Version the service reports (ClickHouse) or runs (Kafka); undefined when unknown. */
  readonly version?: string;
  readonly ports: Readonly<Record<string, number>>;
  readonly logFile: string;
  readonly dataDir: string;
}
