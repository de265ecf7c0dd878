import { isLoopbackRegistry } from '../reference/index.js';
import { printable, type Stage } from './operation.js';

import type { HttpResponse, RequestBody } from './transport-types.js';

/** The transport's constants and error classification (transport.ts has the Transport itself). */

export const DEFAULT_MAX_CONNECTIONS = 16;
export const DEFAULT_MAX_POOLS = 256;
export const DEFAULT_MAX_RETRIES = 3;
export const MAX_REDIRECTS = 5;
export const REDIRECT_STATUS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** Backoff when a 429/503 carries no Retry-After: 200 ms, 400 ms, 800 ms… (plus jitter). */
export const BASE_BACKOFF_MS = 200;
export const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
]);
export const RESET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/**
 * Loopback hosts get plain HTTP by default (a local registry), nothing else does; every spelling counts (`LOCALHOST`,
 * `[0::1]`).
 */
export function isLoopbackHost(host: string): boolean {
  return isLoopbackRegistry(host);
}

/** `host[:port]` → host without port or brackets. */
export function hostname(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon >= 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

/** The host that serves the registry API: Docker Hub's API lives at registry-1.docker.io. */
export function apiHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}

/** Retry-After: delta seconds or an HTTP date. Returns milliseconds, or undefined. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

export function header(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_CONNECT' && code !== 'UND_ERR') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isTlsFailure(code: string | undefined, message: string): boolean {
  if (code !== undefined && /CERT|SSL|TLS|UNABLE_TO_(GET|VERIFY)|ALTNAME|SELF_SIGNED/.test(code)) return true;
  return /certificate|ssl3?_|tls|wrong version number|handshake/i.test(message);
}

export function messageOf(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (!parts.includes(current.message)) parts.push(current.message);
    current = current.cause;
  }
  return printable(parts.join(': '));
}

export function replayable(body: RequestBody | undefined): boolean {
  return body === undefined || body instanceof Uint8Array;
}

/** A round trip that failed, with the stage it failed in. */
export class RoundTripFailure {
  constructor(
    readonly error: unknown,
    readonly stage: Stage,
  ) {}
}

export const DNS_CODES: ReadonlySet<string> = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'ENODATA',
  'ETIMEOUT',
  'ESERVFAIL',
  'EREFUSED',
  'ECANCELLED',
]);
export const CONNECT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
  'EADDRNOTAVAIL',
]);

export async function discard(response: HttpResponse): Promise<void> {
  try {
    await response.body.dump({ limit: 64 * 1024 });
  } catch {
    // The connection is dropped instead; nothing to report.
  }
}
