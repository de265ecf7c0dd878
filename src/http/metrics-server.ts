import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from '../metrics/index.js';

/**
 * `/metrics` on a plain-HTTP port of its own (`metrics.port`), for a Prometheus that does not
 * speak the webhook's TLS (or a NetworkPolicy that opens only this port to it). It serves
 * GET /metrics and nothing else, reads no request body, and keeps no connection idle long.
 */
export interface MetricsServer {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

export async function startMetricsServer(options: {
  readonly port: number;
  readonly host: string;
  readonly metrics: Metrics;
}): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: only GET /metrics is served here\n');
      return;
    }
    options.metrics.render().then(
      (text) => response.writeHead(200, { 'content-type': options.metrics.contentType }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 50;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host === '0.0.0.0' || options.host === '' ? '127.0.0.1' : options.host;
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
