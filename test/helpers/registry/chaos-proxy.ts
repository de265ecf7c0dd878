import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

/**
 * A reverse proxy in front of a registry (e.g. Debian's docker-registry) that misbehaves on
 * demand, for soak tests: it passes requests through, or delays them (`slow`), or answers 429
 * with Retry-After (`rate-limit`), or answers 200 with bytes no registry would send (`garbage`:
 * an HTML error page, truncated JSON, random bytes — what a broken proxy or CDN returns). When
 * the registry behind it is down (restarting), connections through it are cut. It listens on
 * 127.0.0.1, so clients treat it as a plain-HTTP loopback registry.
 */

export type ChaosMode = 'pass' | 'slow' | 'rate-limit' | 'garbage';

const GARBAGE: readonly (() => Buffer)[] = [
  () => Buffer.from('<html><head><title>502 Bad Gateway</title></head><body>upstream went away</body></html>'),
  () =>
    Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":'),
  () => randomBytes(256),
  () => Buffer.from('null'),
];

export class ChaosProxy {
  mode: ChaosMode = 'pass';
  /** Delay of `slow`, ms. */
  slowMs = 2_000;
  readonly counts: Record<ChaosMode | 'cut', number> = { pass: 0, slow: 0, 'rate-limit': 0, garbage: 0, cut: 0 };
  readonly #server: Server;
  readonly #upstream: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();

  private constructor(server: Server, upstream: string) {
    this.#server = server;
    const [host, port] = upstream.split(':') as [string, string];
    this.#upstream = { host, port: Number(port) };
    server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  /** Starts a proxy for `upstream` (`host:port`) on 127.0.0.1 and an ephemeral port. */
  static async start(upstream: string): Promise<ChaosProxy> {
    const holder: { proxy?: ChaosProxy } = {};
    const server = createServer((req, res) => holder.proxy?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    holder.proxy = new ChaosProxy(server, upstream);
    return holder.proxy;
  }

  /** `127.0.0.1:<port>`: the registry host clients use. */
  get host(): string {
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** (The server's request handler.) */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const mode = this.mode;
    this.counts[mode]++;
    if (mode === 'rate-limit') {
      req.resume();
      res
        .writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' })
        .end('{"errors":[{"code":"TOOMANYREQUESTS","message":"rate limited by the chaos proxy"}]}');
      return;
    }
    if (mode === 'garbage') {
      req.resume();
      const body = (GARBAGE[Math.floor(Math.random() * GARBAGE.length)] as () => Buffer)();
      const type = req.url?.includes('/manifests/') ? 'application/vnd.oci.image.manifest.v1+json' : 'text/html';
      res.writeHead(200, { 'content-type': type, 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (mode === 'slow') {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#forward(req, res);
      }, this.slowMs);
      this.#timers.add(timer);
      return;
    }
    this.#forward(req, res);
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    const upstream = httpRequest(
      {
        host: this.#upstream.host,
        port: this.#upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => {
      // The registry is down (restarting): the client sees its connection cut.
      this.counts.cut++;
      res.destroy();
    });
    req.pipe(upstream);
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
