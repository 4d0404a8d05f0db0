import { ServicesError } from './errors.js';

/** Inputs of {@link renderClickHouseConfig}. */
export interface ClickHouseConfigOptions {
  /** Text of the packaged /etc/clickhouse-server/config.xml. */
  readonly template: string;
  /** Data directory (replaces /var/lib/clickhouse/). */
  readonly dataDir: string;
  /** Log directory (replaces /var/log/clickhouse-server/). */
  readonly logDir: string;
  readonly httpPort: number;
  readonly tcpPort: number;
  readonly interserverPort: number;
}

function replaceElement(xml: string, element: string, value: string | number): string {
  const pattern = new RegExp(`<${element}>[^<]*</${element}>`);
  if (!pattern.test(xml)) {
    throw new ServicesError(
      'SERVICES_INVALID_CONFIG',
      `the packaged ClickHouse config.xml has no <${element}> element`,
    );
  }
  return xml.replace(pattern, `<${element}>${value}</${element}>`);
}

/**
 * The packaged server config with project-local data and log directories, the project's ports,
 * and listening on 127.0.0.1 only (so it never collides with a system ClickHouse and an IPv6-less
 * machine still starts it).
 */
export function renderClickHouseConfig(options: ClickHouseConfigOptions): string {
  const dataDir = options.dataDir.endsWith('/') ? options.dataDir : `${options.dataDir}/`;
  const logDir = options.logDir.endsWith('/') ? options.logDir : `${options.logDir}/`;
  let xml = options.template
    .replaceAll('/var/lib/clickhouse/', dataDir)
    .replaceAll('/var/log/clickhouse-server/', logDir);
  xml = replaceElement(xml, 'http_port', options.httpPort);
  xml = replaceElement(xml, 'tcp_port', options.tcpPort);
  xml = replaceElement(xml, 'interserver_http_port', options.interserverPort);
  xml = xml.replace(/<listen_host>[^<]*<\/listen_host>/g, '');
  // Insert after the first top-level element opening (<yandex> in 18.x, <clickhouse> today).
  xml = xml.replace(/<(yandex|clickhouse)>/, '<$1>\n    <listen_host>127.0.0.1</listen_host>');
  return xml;
}
