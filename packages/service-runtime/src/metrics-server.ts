import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  host?: string;
  registry: Registry;
  /** /healthz answers 200 while this returns true, 503 otherwise. */
  healthy: () => boolean;
}

/** A tiny HTTP server for /metrics (Prometheus text) and /healthz. */
export class MetricsServer {
  readonly #server: Server;
  readonly #options: MetricsServerOptions;

  constructor(options: MetricsServerOptions) {
    this.#options = options;
    this.#server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET' }).end();
      } else if (path === '/metrics') {
        options.registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(body),
          () => res.writeHead(500).end('metrics unavailable\n'),
        );
      } else if (path === '/healthz') {
        const ok = options.healthy();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not running\n');
      } else {
        res.writeHead(404).end();
      }
    });
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port, this.#options.host ?? '0.0.0.0', () => {
        this.#server.off('error', reject);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Creates and starts a metrics server. */
export async function startMetricsServer(
  options: MetricsServerOptions,
): Promise<{ server: MetricsServer; port: number }> {
  const server = new MetricsServer(options);
  return { server, port: await server.listen() };
}
