import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { HostResolver } from './dns.js';

/** What the transport (transport.ts) takes and gives. */

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
  /**
   * HTTP/1.1 connections per origin. If unset, 16: bursts queue instead of opening hundreds of
   * sockets. An HTTP/2 connection carries many requests at once; callers bound those.
   */
  readonly maxConnectionsPerHost?: number;
  /** Offer HTTP/2 to HTTPS registries (ALPN). If unset, true. */
  readonly http2?: boolean;
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
