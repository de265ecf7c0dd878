import {
  Agent as HttpAgent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { TokenBucket } from './token-bucket.js';

/**
 * A reverse proxy in front of a registry (e.g. Debian's docker-registry), for the benchmark and
 * the soak test. Two independent parts:
 * - misbehaviour on demand (`mode`): pass requests through, delay them (`slow`), answer 429
 *   with Retry-After (`rate-limit`), or answer 200 with bytes no registry would send (`garbage`:
 *   an HTML error page, truncated JSON, random bytes — what a broken proxy or CDN returns). When
 *   the registry behind it is down (restarting), connections through it are cut.
 * - a network far away (`network`): a round-trip time on every request, a handshake time on
 *   every new connection (TCP, plus TLS), a bandwidth per connection, and a request rate past
 *   which it answers 429 with Retry-After, as registries throttle.
 * It listens on 127.0.0.1: plain HTTP/1.1 by default, or HTTPS offering HTTP/2 and HTTP/1.1
 * (ALPN) with `tls`, as public registries do. Every request can be recorded (method, path,
 * status, start and end, connection) to count round trips and objects fetched more than once.
 */

export type ChaosMode = 'pass' | 'slow' | 'rate-limit' | 'garbage';

export interface NetworkProfile {
  /** Added to every request: half before it is forwarded, half before the answer arrives. Default 0. */
  readonly rttMs?: number;
  /** Added before the first request of each new connection (TCP and TLS handshakes). Default 0. */
  readonly handshakeMs?: number;
  /** Answer bytes per second per connection (an HTTP/2 connection's streams share it). 0 = unlimited. */
  readonly bytesPerSecond?: number;
  /** Requests per second answered; past it 429 with Retry-After. 0 = unlimited. */
  readonly requestsPerSecond?: number;
  /** Requests allowed at once before the rate applies (token bucket size). Default one second's worth. */
  readonly burst?: number;
  /** Retry-After of those 429s, seconds. Default 1. */
  readonly retryAfterSeconds?: number;
}

export interface ChaosProxyOptions {
  readonly network?: NetworkProfile;
  /** Serve HTTPS with this certificate, offering HTTP/2 (and HTTP/1.1) unless `http1Only`. */
  readonly tls?: { readonly certPem: string; readonly keyPem: string; readonly http1Only?: boolean };
  /** Record every request in `log`. */
  readonly record?: boolean;
}

export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  /** The answer's status (0 when the connection was cut). */
  status: number;
  /** performance.now() when the request arrived and when its answer was complete. */
  readonly start: number;
  end: number;
  /** Sequence number of the client connection it came on. */
  readonly connection: number;
  readonly http2: boolean;
  /** How long the registry behind took to answer it (ms; 0 when it was not forwarded). */
  upstreamMs: number;
}

const GARBAGE: readonly (() => Buffer)[] = [
  () => Buffer.from('<html><head><title>502 Bad Gateway</title></head><body>upstream went away</body></html>'),
  () =>
    Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":'),
  () => randomBytes(256),
  () => Buffer.from('null'),
];

/** Headers HTTP/2 forbids and HTTP/1.1 hops own: never forwarded either way. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'te',
]);

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

interface Connection {
  readonly id: number;
  /** When its handshake is over. */
  readonly ready: number;
  /** When the bytes already scheduled on it have been sent. */
  busyUntil: number;
}

export class ChaosProxy {
  mode: ChaosMode = 'pass';
  /** Delay of `slow`, ms. */
  slowMs = 2_000;
  /** The network far away; may be replaced while running. */
  network: NetworkProfile;
  readonly counts: Record<ChaosMode | 'cut' | 'throttled', number> = {
    pass: 0,
    slow: 0,
    'rate-limit': 0,
    garbage: 0,
    cut: 0,
    throttled: 0,
  };
  /** Every request, when recording. */
  readonly log: ProxiedRequest[] = [];
  /** Client connections accepted so far. */
  connections = 0;
  readonly #server: Server | Http2SecureServer;
  readonly #upstream: { host: string; port: number };
  readonly #record: boolean;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #connections = new WeakMap<object, Connection>();
  readonly #agent: HttpAgent | false;
  #bucket: TokenBucket | undefined;
  #bucketFor: NetworkProfile | undefined;

  private constructor(server: Server | Http2SecureServer, upstream: string, options: ChaosProxyOptions) {
    this.#server = server;
    const [host, port] = upstream.split(':') as [string, string];
    this.#upstream = { host, port: Number(port) };
    this.network = options.network ?? {};
    this.#record = options.record === true;
    // A network far away keeps its connections to the registry (loopback) open; the soak's
    // proxies open one per request, so a registry restart never leaves a stale one behind.
    this.#agent = options.network === undefined ? false : new HttpAgent({ keepAlive: true, maxSockets: 512 });
    server.on(options.tls === undefined ? 'connection' : 'secureConnection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  /** Starts a proxy for `upstream` (`host:port`) on 127.0.0.1 and an ephemeral port. */
  static async start(upstream: string, options: ChaosProxyOptions = {}): Promise<ChaosProxy> {
    const holder: { proxy?: ChaosProxy } = {};
    const handler = (req: Req, res: Res): void => holder.proxy?.handle(req, res);
    const server =
      options.tls === undefined
        ? createServer(handler)
        : createSecureServer(
            {
              cert: options.tls.certPem,
              key: options.tls.keyPem,
              allowHTTP1: true,
              ...(options.tls.http1Only === true ? { ALPNProtocols: ['http/1.1'] } : {}),
            },
            handler,
          );
    if (options.network !== undefined && 'keepAliveTimeout' in server) {
      // Registries keep idle connections for a minute or more (Node's default is 5 s).
      server.keepAliveTimeout = 65_000;
      server.headersTimeout = 66_000;
    }
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    holder.proxy = new ChaosProxy(server, upstream, options);
    return holder.proxy;
  }

  /** `127.0.0.1:<port>`: the registry host clients use. */
  get host(): string {
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Forgets the recorded requests, the counts and the connection count. */
  resetLog(): void {
    this.log.length = 0;
    this.connections = 0;
    for (const key of Object.keys(this.counts)) this.counts[key as keyof typeof this.counts] = 0;
  }

  /** (The server's request handler.) */
  handle(req: Req, res: Res): void {
    const arrived = performance.now();
    const connection = this.#connectionOf(req, arrived);
    const entry: ProxiedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '',
      status: 0,
      start: arrived,
      end: arrived,
      connection: connection.id,
      http2: req.httpVersion === '2.0',
      upstreamMs: 0,
    };
    if (this.#record) this.log.push(entry);
    res.once('close', () => {
      entry.end = performance.now();
      entry.status = res.headersSent ? res.statusCode : 0;
    });
    const half = (this.network.rttMs ?? 0) / 2;
    // The request reaches the registry half a round trip after it was sent, or after the handshake.
    const reaches = Math.max(arrived, connection.ready) + half;
    this.#at(reaches, () => this.#arrived(req, res, connection, half, entry));
  }

  #arrived(req: Req, res: Res, connection: Connection, half: number, entry: ProxiedRequest): void {
    const mode = this.mode;
    if (mode === 'pass' && this.#throttled()) {
      this.counts.throttled++;
      req.resume();
      const body = Buffer.from('{"errors":[{"code":"TOOMANYREQUESTS","message":"request rate exceeded"}]}');
      this.#answer(
        res,
        connection,
        half,
        429,
        {
          'content-type': 'application/json',
          'retry-after': String(this.network.retryAfterSeconds ?? 1),
          'content-length': body.length,
        },
        req.method === 'HEAD' ? Buffer.alloc(0) : body,
      );
      return;
    }
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
      if (req.method === 'HEAD') res.end();
      else res.end(body);
      return;
    }
    if (mode === 'slow') {
      this.#at(performance.now() + this.slowMs, () => this.#forward(req, res, connection, half, entry));
      return;
    }
    this.#forward(req, res, connection, half, entry);
  }

  /** Whether the request rate is past the registry's limit (the request is then refused). */
  #throttled(): boolean {
    const rate = this.network.requestsPerSecond ?? 0;
    if (rate <= 0) return false;
    if (this.#bucketFor !== this.network || this.#bucket === undefined) {
      this.#bucket = new TokenBucket(rate, this.network.burst ?? rate);
      this.#bucketFor = this.network;
    }
    return !this.#bucket.take(performance.now());
  }

  #connectionOf(req: Req, now: number): Connection {
    // An HTTP/2 request's socket is a per-stream proxy object: its session is the connection.
    const key: object = 'stream' in req ? (req.stream.session ?? req.socket) : req.socket;
    let connection = this.#connections.get(key);
    if (connection === undefined) {
      this.connections++;
      connection = { id: this.connections, ready: now + (this.network.handshakeMs ?? 0), busyUntil: 0 };
      this.#connections.set(key, connection);
    }
    return connection;
  }

  #forward(req: Req, res: Res, connection: Connection, half: number, entry: ProxiedRequest): void {
    const sent = performance.now();
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers as IncomingHttpHeaders)) {
      if (name.startsWith(':') || HOP_BY_HOP.has(name) || value === undefined) continue;
      headers[name] = value;
    }
    // The registry builds upload Locations from Host: keep the proxy's, which clients use.
    headers.host = (req.headers as Record<string, string | undefined>)[':authority'] ?? req.headers.host ?? this.host;
    const upstream = httpRequest(
      {
        host: this.#upstream.host,
        port: this.#upstream.port,
        method: req.method,
        path: req.url,
        headers,
        agent: this.#agent,
      },
      (answer) => {
        entry.upstreamMs = performance.now() - sent;
        const out: OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
        }
        const status = answer.statusCode ?? 502;
        if (half === 0 && (this.network.bytesPerSecond ?? 0) <= 0) {
          res.writeHead(status, out);
          answer.pipe(res as NodeJS.WritableStream);
          answer.on('error', () => res.destroy());
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('error', () => res.destroy());
        answer.on('end', () => this.#answer(res, connection, half, status, out, Buffer.concat(chunks)));
      },
    );
    upstream.on('error', () => {
      // The registry is down (restarting): the client sees its connection cut.
      this.counts.cut++;
      res.destroy();
    });
    (req as NodeJS.ReadableStream).pipe(upstream);
  }

  /**
   * Sends an answer after the bytes ahead of it on its connection, at the connection's bandwidth;
   * it arrives half a round trip later.
   */
  #answer(
    res: Res,
    connection: Connection,
    half: number,
    status: number,
    headers: OutgoingHttpHeaders,
    body: Buffer,
  ): void {
    const bandwidth = this.network.bytesPerSecond ?? 0;
    let sent = performance.now();
    if (bandwidth > 0) {
      sent = Math.max(sent, connection.busyUntil) + (body.length * 1000) / bandwidth;
      connection.busyUntil = sent;
    }
    this.#at(sent + half, () => {
      if (res.destroyed) return;
      (res as ServerResponse).writeHead(status, headers);
      res.end(body);
    });
  }

  /** Runs `fn` at `when` (a performance.now() time), at once if that has passed. */
  #at(when: number, fn: () => void): void {
    const wait = when - performance.now();
    if (wait <= 0.5) {
      fn();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, wait);
    this.#timers.add(timer);
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    for (const s of this.#sockets) s.destroy();
    if (this.#agent !== false) this.#agent.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
