import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestTsa } from './tsa.js';

/**
 * An RFC 3161 HTTP front (RFC 3161 §3.4) for a TestTsa on 127.0.0.1: a POST body is the DER
 * TimeStampReq, answered by `openssl ts -reply` (TestTsa.reply) with the DER TimeStampResp as
 * `application/timestamp-reply`. Knobs let tests break the exchange.
 */
export interface TsaServerOptions {
  /** Wait this long before answering. */
  readonly delayMs?: number;
  /** Answer with this status (and no token) instead. */
  readonly status?: number;
  /** Content type of the answer (default application/timestamp-reply). */
  readonly contentType?: string;
  /** Rewrite the DER response before sending it. */
  readonly mutate?: (response: Uint8Array, request: Uint8Array) => Uint8Array;
}

export class TsaServer {
  readonly #server: Server;
  readonly #tsa: TestTsa;
  options: TsaServerOptions;
  /** Requests received (DER TimeStampReq), for assertions. */
  readonly requests: Uint8Array[] = [];
  /** Content types of the requests received. */
  readonly requestTypes: (string | undefined)[] = [];

  private constructor(tsa: TestTsa, options: TsaServerOptions) {
    this.#tsa = tsa;
    this.options = options;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  static async start(tsa: TestTsa, options: TsaServerOptions = {}): Promise<TsaServer> {
    const server = new TsaServer(tsa, options);
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return server;
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/tsa`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = new Uint8Array(Buffer.concat(chunks));
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    this.requests.push(body);
    this.requestTypes.push(req.headers['content-type']);
    const { delayMs, status, contentType, mutate } = this.options;
    if (delayMs !== undefined) await new Promise((r) => setTimeout(r, delayMs));
    if (res.destroyed) return;
    if (status !== undefined) {
      res.writeHead(status, { 'content-type': 'text/plain' }).end('no');
      return;
    }
    let answer: Uint8Array;
    try {
      answer = this.#tsa.reply(body);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      return;
    }
    if (mutate !== undefined) answer = mutate(answer, body);
    res.writeHead(200, {
      'content-type': contentType ?? 'application/timestamp-reply',
      'content-length': answer.length,
    });
    res.end(Buffer.from(answer));
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
