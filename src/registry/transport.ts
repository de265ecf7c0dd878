import { Readable } from 'node:stream';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, type Dispatcher } from 'undici';
import { isPortcullisError, type PortcullisError } from '../errors/index.js';
import { isDnsLookupError, type HostResolver } from './dns.js';
import { abortError, operationError, printable, remainingMs, type Operation, type Stage } from './operation.js';
import {
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_POOLS,
  DEFAULT_MAX_RETRIES,
  MAX_REDIRECTS,
  REDIRECT_STATUS,
  BASE_BACKOFF_MS,
  NETWORK_CODES,
  RESET_CODES,
  isLoopbackHost,
  apiHost,
  parseRetryAfter,
  header,
  errorCode,
  isTlsFailure,
  messageOf,
  replayable,
  RoundTripFailure,
  DNS_CODES,
  CONNECT_CODES,
  discard,
} from './transport-support.js';

export { apiHost, discard, header, hostname, isLoopbackHost, parseRetryAfter } from './transport-support.js';

/**
 * The bottom layer: HTTP round trips to registries. One keep-alive undici Pool per origin (so
 * one connection limit per registry host), TLS with a per-host CA bundle, plain HTTP only when
 * allowed, the operation's deadline on every request, retries of 429/503 (honouring
 * Retry-After while it fits in the deadline) and of a connection reset, and manual redirects
 * (only when the caller asks, which it does for blobs only).
 */

export interface RegistryTlsOptions {
  /** PEM CA certificates trusted for this host, instead of the system roots. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Do not verify the certificate (tests and emergencies only). */
  readonly insecureSkipVerify?: boolean;
}

export interface RequestInfo {
  readonly method: string;
  readonly host: string;
  /** Path and query string. */
  readonly path: string;
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;
  readonly durationMs: number;
}

export interface TransportOptions {
  /**
   * Use plain HTTP: `true` for every registry, `false` for none (TLS even on loopback), or a
   * function of the host (`host[:port]`) that decides alone. If unset, only loopback hosts
   * (127.0.0.0/8, ::1, localhost) use plain HTTP; everything else needs TLS.
   */
  readonly plainHttp?: boolean | ((host: string) => boolean);
  /** TLS settings per host (`host[:port]` as in references), or a function of the host. */
  readonly tls?: Readonly<Record<string, RegistryTlsOptions>> | ((host: string) => RegistryTlsOptions | undefined);
  /** Connections per origin. If unset, 16: bursts queue instead of opening hundreds of sockets. */
  readonly maxConnectionsPerHost?: number;
  /** Retries of 429/503 per request. If unset, 3. */
  readonly maxRetries?: number;
  /** Called after every round trip (token requests, retries and redirect hops included). */
  readonly onRequest?: (info: RequestInfo) => void;
  readonly userAgent?: string;
  /**
   * Resolves registry host names (and is the pools' `connect.lookup`). If unset, Node's
   * `dns.lookup` (getaddrinfo on the libuv thread pool) — fine for the CLI, not for the webhook,
   * where pod specs name the hosts.
   */
  readonly resolver?: HostResolver;
  /**
   * Origins with a connection pool at once; the least recently used is closed beyond it. If unset, 256. Also bounds the
   * hosts whose auth challenge and Referrers API support the client remembers.
   */
  readonly maxPools?: number;
}

export type RequestBody = Uint8Array | Readable | AsyncIterable<Uint8Array>;

export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: RequestBody;
  /** Follow redirects (blob reads only). Authorization is dropped on cross-origin hops. */
  readonly followRedirects?: boolean;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Dispatcher.ResponseData['body'];
  /** The URL that answered (after redirects). */
  readonly url: URL;
  /** Set when a 429/503 was not retried (further), saying why. */
  readonly gaveUp?: string;
}

export class Transport {
  readonly #options: TransportOptions;
  readonly #pools = new Map<string, Pool>();
  /** Connections each pool has made so far: tells "not connected yet" from "connected, no answer". */
  readonly #connects = new WeakMap<Pool, number>();
  #closed = false;

  constructor(options: TransportOptions = {}) {
    this.#options = options;
  }

  /** Whether plain HTTP may be used for the host. */
  allowsPlainHttp(host: string): boolean {
    const plain = this.#options.plainHttp;
    if (typeof plain === 'function') return plain(host);
    if (typeof plain === 'boolean') return plain;
    return isLoopbackHost(host);
  }

  /** `https://host` or `http://host` for the registry API. */
  baseUrl(registry: string): URL {
    const host = apiHost(registry);
    return new URL(`${this.allowsPlainHttp(registry) ? 'http' : 'https'}://${host}`);
  }

  #pool(url: URL): Pool {
    if (this.#closed) throw new Error('the registry client is closed');
    const origin = url.origin;
    let pool = this.#pools.get(origin);
    if (pool !== undefined) {
      // Most recently used last, so the first entry is the one to close when there are too many.
      if (this.#pools.size > 1) {
        this.#pools.delete(origin);
        this.#pools.set(origin, pool);
      }
      return pool;
    }
    const tls = this.#tlsFor(url);
    const resolver = this.#options.resolver;
    pool = new Pool(origin, {
      connections: this.#options.maxConnectionsPerHost ?? DEFAULT_MAX_CONNECTIONS,
      keepAliveTimeout: 30_000,
      connect: {
        ...(tls?.ca === undefined ? {} : { ca: tls.ca as string | Buffer | (string | Buffer)[] }),
        ...(tls?.insecureSkipVerify === true ? { rejectUnauthorized: false } : {}),
        ...(resolver === undefined ? {} : { lookup: resolver.lookup }),
      },
    });
    const counted = pool;
    counted.on('connect', () => this.#connects.set(counted, (this.#connects.get(counted) ?? 0) + 1));
    this.#pools.set(origin, pool);
    // Every host a pod names gets a pool: keep their number bounded (an idle pool closes at once,
    // a busy one once its requests are done).
    if (this.#pools.size > (this.#options.maxPools ?? DEFAULT_MAX_POOLS)) {
      const [oldest, old] = this.#pools.entries().next().value as [string, Pool];
      this.#pools.delete(oldest);
      old.close().catch(() => undefined);
    }
    return pool;
  }

  /** Origins with a connection pool (for tests and diagnostics). */
  get poolCount(): number {
    return this.#pools.size;
  }

  #tlsFor(url: URL): RegistryTlsOptions | undefined {
    const tls = this.#options.tls;
    if (tls === undefined) return undefined;
    // `reg.io` and `reg.io:443` name the same registry (URL drops the default port).
    const names = [
      url.host,
      `${url.hostname}:${url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port}`,
    ];
    if (url.host === 'registry-1.docker.io') names.push('docker.io');
    for (const name of names) {
      const found = typeof tls === 'function' ? tls(name) : Object.hasOwn(tls, name) ? tls[name] : undefined;
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /**
   * One logical request: retries, redirects and the deadline handled. Returns any response
   * (the caller maps statuses); throws for network failures, TLS failures and the deadline.
   */
  async send(op: Operation, request: HttpRequest): Promise<HttpResponse> {
    let url = request.url;
    let method = request.method;
    let headers: Record<string, string> = { ...request.headers };
    if (this.#options.userAgent !== undefined) headers['user-agent'] = this.#options.userAgent;
    let body = request.body;
    for (let hop = 0; ; hop++) {
      const response = await this.#sendWithRetries(op, method, url, headers, body);
      const location = header(response.headers, 'location');
      if (request.followRedirects !== true || !REDIRECT_STATUS.has(response.status) || location === undefined)
        return response;
      await discard(response);
      if (hop >= MAX_REDIRECTS)
        throw operationError(
          op,
          'ERR_REGISTRY_RESPONSE',
          `more than ${MAX_REDIRECTS} redirects (last to ${printable(location)})`,
        );
      let next: URL;
      try {
        next = new URL(location, url);
      } catch (cause) {
        throw operationError(op, 'ERR_REGISTRY_RESPONSE', `redirect to an invalid URL "${printable(location)}"`, cause);
      }
      if (next.protocol !== 'https:' && next.protocol !== 'http:')
        throw operationError(op, 'ERR_REGISTRY_RESPONSE', `redirect to unsupported URL scheme ${next.protocol}`);
      if (next.protocol === 'http:' && !this.allowsPlainHttp(next.host)) {
        throw operationError(
          op,
          'ERR_REGISTRY_RESPONSE',
          `redirect to plain HTTP ${next.origin} refused (not allowed by the plainHttp option)`,
        );
      }
      if (next.origin !== url.origin) {
        // Credentials are for the registry, never for a storage backend it redirects to.
        headers = Object.fromEntries(
          Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'),
        );
      }
      if (response.status === 303) {
        method = 'GET';
        body = undefined;
      }
      url = next;
    }
  }

  async #sendWithRetries(
    op: Operation,
    method: HttpRequest['method'],
    url: URL,
    headers: Record<string, string>,
    body: RequestBody | undefined,
  ): Promise<HttpResponse> {
    const maxRetries = this.#options.maxRetries ?? DEFAULT_MAX_RETRIES;
    let resetRetried = false;
    for (let attempt = 0; ; attempt++) {
      let response: HttpResponse;
      try {
        response = await this.#once(op, method, url, headers, body);
      } catch (thrown) {
        if (isPortcullisError(thrown)) throw thrown;
        const failure =
          thrown instanceof RoundTripFailure
            ? thrown
            : new RoundTripFailure(thrown, { stage: 'answer', host: url.host });
        const code = errorCode(failure.error);
        if (!resetRetried && code !== undefined && RESET_CODES.has(code) && replayable(body) && !op.signal.aborted) {
          resetRetried = true;
          continue;
        }
        throw this.#networkError(op, url, failure.error, failure.stage);
      }
      if (response.status !== 429 && response.status !== 503) return response;
      const wait = parseRetryAfter(header(response.headers, 'retry-after'), Date.now());
      const delay = wait ?? BASE_BACKOFF_MS * 2 ** attempt * (1 + Math.random() * 0.2);
      const left = remainingMs(op);
      let gaveUp: string | undefined;
      if (attempt >= maxRetries) gaveUp = `still ${response.status} after ${maxRetries} retries`;
      else if (!replayable(body)) gaveUp = 'the request body is a stream and cannot be sent again';
      else if (delay >= left - 50) {
        gaveUp =
          wait === undefined
            ? `no time left in the ${op.timeoutMs} ms deadline to retry`
            : `Retry-After ${(wait / 1000).toFixed(1)} s does not fit in the ${Math.max(0, left / 1000).toFixed(1)} s left of the ${op.timeoutMs} ms deadline`;
      }
      if (gaveUp !== undefined) return { ...response, gaveUp };
      await discard(response);
      try {
        await sleep(delay, undefined, { signal: op.signal });
      } catch (cause) {
        throw abortError(op, cause);
      }
    }
  }

  async #once(
    op: Operation,
    method: HttpRequest['method'],
    url: URL,
    headers: Record<string, string>,
    body: RequestBody | undefined,
  ): Promise<HttpResponse> {
    if (op.signal.aborted) throw abortError(op);
    const started = performance.now();
    const path = `${url.pathname}${url.search}`;
    let status = 0;
    let pool: Pool | undefined;
    let stage: Stage['stage'] = 'connect';
    let connectsBefore = 0;
    try {
      pool = this.#pool(url);
      const resolver = this.#options.resolver;
      if (resolver !== undefined && pool.stats.connected === 0 && isIP(url.hostname.replace(/^\[|\]$/g, '')) === 0) {
        // Resolved here, within this operation's deadline, so that a slow or failing lookup is
        // abandoned (and named) at the deadline; the connection then finds the answer cached.
        stage = 'dns';
        await resolver.resolve(url.hostname, op.signal);
        stage = 'connect';
      }
      if (pool.stats.connected > 0) stage = 'answer';
      connectsBefore = this.#connects.get(pool) ?? 0;
      const requestBody =
        body === undefined || body instanceof Uint8Array || body instanceof Readable ? body : Readable.from(body);
      const response = await pool.request({
        path,
        method,
        headers,
        ...(requestBody === undefined ? {} : { body: requestBody }),
        signal: op.signal,
        // The operation deadline governs; these only stop undici's own 300 s defaults.
        headersTimeout: op.timeoutMs,
        bodyTimeout: op.timeoutMs,
      });
      status = response.statusCode;
      return { status, headers: response.headers, body: response.body, url };
    } catch (error) {
      if (stage === 'connect' && pool !== undefined && (this.#connects.get(pool) ?? 0) > connectsBefore)
        stage = 'answer';
      throw new RoundTripFailure(error, { stage, host: url.host });
    } finally {
      this.#options.onRequest?.({ method, host: url.host, path, status, durationMs: performance.now() - started });
    }
  }

  #networkError(op: Operation, url: URL, error: unknown, stage: Stage): PortcullisError {
    if (op.signal.aborted) return abortError(op, error, stage);
    if (isDnsLookupError(error)) return operationError(op, 'ERR_REGISTRY_UNREACHABLE', printable(error.message), error);
    const code = errorCode(error);
    const message = messageOf(error);
    if (url.protocol === 'https:' && isTlsFailure(code, message)) {
      const hint = /wrong version number|packet length/i.test(message)
        ? ' (is it a plain-HTTP registry? see the plainHttp option)'
        : '';
      return operationError(
        op,
        'ERR_REGISTRY_TLS',
        `TLS connection to ${url.host} failed: ${code === undefined ? '' : `${code}: `}${message}${hint}`,
        error,
      );
    }
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return abortError(op, error, stage);
    const detail = message === '' || message === code ? '' : ` (${message})`;
    if (code !== undefined && DNS_CODES.has(code)) {
      return operationError(
        op,
        'ERR_REGISTRY_UNREACHABLE',
        `DNS lookup of ${url.hostname} failed: ${code}${detail}`,
        error,
      );
    }
    if (code !== undefined && CONNECT_CODES.has(code)) {
      return operationError(
        op,
        'ERR_REGISTRY_UNREACHABLE',
        `connecting to ${url.host} failed: ${code}${detail}`,
        error,
      );
    }
    const what = code !== undefined && NETWORK_CODES.has(code) ? code : 'network error';
    return operationError(
      op,
      'ERR_REGISTRY_UNREACHABLE',
      `cannot reach ${url.protocol}//${url.host}: ${what}${detail}`,
      error,
    );
  }

  /** Destroys every pool (open connections are closed). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#options.resolver?.close();
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }
}

/** Throws the rest of a response body away (bounded) so the connection can be reused. */
