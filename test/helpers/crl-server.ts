import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Serves CRLs (or any bytes) over HTTP on 127.0.0.1 only, by path, with per-path request
 * counts, delay injection and a "down" mode, for revocation tests against a real HTTP peer.
 */
export class CrlServer {
  readonly #server: Server;
  readonly #files = new Map<string, Uint8Array>();
  readonly #hits = new Map<string, number>();
  delayMs = 0;
  /** 'up' serves; 'down' drops each connection. */
  mode: 'up' | 'down' = 'up';

  private constructor() {
    this.#server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      this.#hits.set(path, (this.#hits.get(path) ?? 0) + 1);
      if (this.mode === 'down') {
        req.socket.destroy();
        return;
      }
      const send = (): void => {
        if (res.destroyed) return;
        const body = this.#files.get(path);
        if (body === undefined) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': body.length }).end(body);
      };
      if (this.delayMs > 0) setTimeout(send, this.delayMs);
      else send();
    });
  }

  static async start(): Promise<CrlServer> {
    const server = new CrlServer();
    await new Promise<void>((resolve) => server.#server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The URL of a path on this server, e.g. url('/leaf.crl'). */
  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  serve(path: string, bytes: Uint8Array): void {
    this.#files.set(path, bytes);
  }

  remove(path: string): void {
    this.#files.delete(path);
  }

  hits(path: string): number {
    return this.#hits.get(path) ?? 0;
  }

  resetHits(): void {
    this.#hits.clear();
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
