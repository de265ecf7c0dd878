import { Readable } from 'node:stream';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { isPortcullisError, type PortcullisError } from '../errors/index.js';
import { isDnsLookupError } from './dns.js';
import { abortError, operationError, printable, remainingMs, type Operation, type Stage } from './operation.js';
import { multiplexingClient } from './http2-client.js';
import { OriginThrottles, throttledTooLong } from './origin-throttles.js';
import type { ThrottleState } from './throttle.js';
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
 * one connection limit per registry host), HTTP/2 where an HTTPS registry offers it (ALPN; many
 * requests on one connection), TLS with a per-host CA bundle, plain HTTP only when allowed, the
 * operation's deadline on every request, retries of 429/503 (honouring Retry-After while it
 * fits in the deadline) and of a connection reset, pacing per origin once a registry answers
 * 429 (throttle.ts), and manual redirects (only when the caller asks, which it does for blobs
 * only).
 */

export type {
  RegistryTlsOptions,
  RequestInfo,
  TransportOptions,
  RequestBody,
  HttpRequest,
  HttpResponse,
} from './transport-types.js';
import type {
  RegistryTlsOptions,
  TransportOptions,
  RequestBody,
  HttpRequest,
  HttpResponse,
} from './transport-types.js';

export class Transport {
  readonly #options: TransportOptions;
  readonly #pools = new Map<string, Pool>();
  /** Origins that throttle (or have requests in flight through their throttle); idle ones are dropped. */
  readonly #throttles = new OriginThrottles();
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
    const http2 = url.protocol === 'https:' && this.#options.http2 !== false;
    pool = new Pool(origin, {
      connections: this.#options.maxConnectionsPerHost ?? DEFAULT_MAX_CONNECTIONS,
      keepAliveTimeout: 30_000,
      ...(http2 ? { allowH2: true, factory: multiplexingClient } : {}),
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
      const throttle = this.#throttles.get(url.origin);
      let startedAt: number;
      try {
        startedAt = await throttle.acquire(op.signal, { retry: attempt > 0, deadline: op.deadline - 50 });
      } catch (cause) {
        this.#throttles.forget(url.origin, throttle);
        throw throttledTooLong(op, url, throttle, cause);
      }
      let response: HttpResponse;
      try {
        response = await this.#once(op, method, url, headers, body);
      } catch (thrown) {
        throttle.release(startedAt);
        this.#throttles.forget(url.origin, throttle);
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
      if (response.status !== 429 && response.status !== 503) {
        throttle.release(startedAt);
        this.#throttles.forget(url.origin, throttle);
        return response;
      }
      const wait = parseRetryAfter(header(response.headers, 'retry-after'), Date.now());
      const delay = wait ?? BASE_BACKOFF_MS * 2 ** attempt * (1 + Math.random() * 0.2);
      // A 429 (or a 503 naming its Retry-After) paces every request to the origin, not just this one.
      const paced = response.status === 429 || wait !== undefined;
      throttle.release(startedAt, paced ? delay : undefined);
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
      if (gaveUp !== undefined) {
        this.#throttles.forget(url.origin, throttle);
        return { ...response, gaveUp };
      }
      await discard(response);
      // When paced, the throttle holds the retry until the registry's time has passed.
      if (paced) continue;
      try {
        await sleep(delay, undefined, { signal: op.signal });
      } catch (cause) {
        throw abortError(op, cause);
      }
    }
  }

  /** Requests waiting for their turn at throttling origins (for tests and diagnostics). */
  throttleState(origin: string): ThrottleState | undefined {
    return this.#throttles.state(origin);
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
        // undici closes an HTTP/1.1 connection after every HEAD (in case a server sends a body
        // anyway), which made every cold manifest lookup pay a new TCP and TLS handshake.
        // Registries answer HEAD as HTTP says; a stray body would fail the next request on
        // that connection, which is retried once on a new one (a reset, below).
        ...(method === 'HEAD' ? { reset: false } : {}),
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
