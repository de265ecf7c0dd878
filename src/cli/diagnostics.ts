import { subscribe, unsubscribe } from 'node:diagnostics_channel';

/**
 * `--verbose` / `--debug`: one line per HTTP request on stderr — method, URL, status, time and
 * the bytes sent and received, counted as they pass — read from undici's diagnostics channels,
 * so every request the command makes (registry, token server, OCSP/CRL) is shown without the
 * registry client knowing. `--debug` adds the request and response headers, credentials masked.
 */

interface Pending {
  readonly started: number;
  sent: number;
  received: number;
  status: number;
  responseHeaders?: readonly (Buffer | string)[];
}

interface UndiciRequest {
  readonly origin: string | URL;
  readonly method: string;
  readonly path: string;
  readonly headers: readonly string[] | string;
}

/** Header values that carry credentials or sessions; only their scheme is shown. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-registry-auth']);

export function maskHeader(name: string, value: string): string {
  if (!SECRET_HEADERS.has(name.toLowerCase())) return value;
  const scheme = /^(Basic|Bearer|Digest|Negotiate)\s/i.exec(value)?.[1];
  return scheme === undefined ? '***' : `${scheme} ***`;
}

function pairs(raw: readonly (Buffer | string)[] | string | undefined): [string, string][] {
  if (raw === undefined) return [];
  if (typeof raw === 'string') {
    return raw
      .split('\r\n')
      .filter((l) => l !== '')
      .map((l) => {
        const colon = l.indexOf(':');
        return [l.slice(0, colon).trim(), l.slice(colon + 1).trim()] as [string, string];
      });
  }
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([String(raw[i]), String(raw[i + 1])]);
  return out;
}

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1048576).toFixed(1)} MiB`;
}

/** Query parameters that carry credentials (pre-signed storage URLs a registry redirects blob reads to, tokens). */
const SECRET_QUERY = /sig|signature|token|credential|secret|password|key/i;

/** The request URL, with the values of credential-bearing query parameters masked. */
export function maskUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return eq >= 0 && SECRET_QUERY.test(decodeURIComponent(name)) ? `${name}=***` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

function urlOf(request: UndiciRequest): string {
  const origin = typeof request.origin === 'string' ? request.origin : request.origin.origin;
  return maskUrl(`${origin.replace(/\/$/, '')}${request.path}`);
}

/** Starts tracing; the function returned stops it (and reports requests whose body was never read). */
export function traceRequests(write: (text: string) => void, options: { headers: boolean }): () => void {
  const pending = new Map<UndiciRequest, Pending>();
  const line = (request: UndiciRequest, p: Pending, outcome: string): void => {
    const ms = Math.round(performance.now() - p.started);
    const bytes = p.sent > 0 ? `${size(p.sent)} sent, ${size(p.received)} received` : size(p.received);
    let text = `${request.method} ${urlOf(request)} ${outcome} (${ms} ms, ${bytes})\n`;
    if (options.headers) {
      for (const [name, value] of pairs(request.headers)) text += `  > ${name}: ${maskHeader(name, value)}\n`;
      for (const [name, value] of pairs(p.responseHeaders)) text += `  < ${name}: ${maskHeader(name, value)}\n`;
    }
    write(text);
  };
  const handlers: [string, (message: unknown) => void][] = [
    [
      'undici:request:create',
      (m) =>
        void pending.set((m as { request: UndiciRequest }).request, {
          started: performance.now(),
          sent: 0,
          received: 0,
          status: 0,
        }),
    ],
    [
      'undici:request:bodyChunkSent',
      (m) => {
        const { request, chunk } = m as { request: UndiciRequest; chunk: Uint8Array | string };
        const p = pending.get(request);
        if (p !== undefined) p.sent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      },
    ],
    [
      'undici:request:headers',
      (m) => {
        const { request, response } = m as {
          request: UndiciRequest;
          response: { statusCode: number; headers: (Buffer | string)[] };
        };
        const p = pending.get(request);
        if (p === undefined) return;
        p.status = response.statusCode;
        p.responseHeaders = response.headers;
      },
    ],
    [
      'undici:request:bodyChunkReceived',
      (m) => {
        const { request, chunk } = m as { request: UndiciRequest; chunk: Uint8Array };
        const p = pending.get(request);
        if (p !== undefined) p.received += chunk.length;
      },
    ],
    [
      'undici:request:trailers',
      (m) => {
        const { request } = m as { request: UndiciRequest };
        const p = pending.get(request);
        if (p === undefined) return;
        pending.delete(request);
        line(request, p, `→ ${p.status}`);
      },
    ],
    [
      'undici:request:error',
      (m) => {
        const { request, error } = m as { request: UndiciRequest; error: Error };
        const p = pending.get(request);
        if (p === undefined) return;
        pending.delete(request);
        const why = (error as { code?: string }).code ?? error.name;
        line(request, p, p.status === 0 ? `→ failed: ${why}` : `→ ${p.status}, body not read to the end: ${why}`);
      },
    ],
  ];
  for (const [name, handler] of handlers) subscribe(name, handler);
  return () => {
    for (const [name, handler] of handlers) unsubscribe(name, handler);
    for (const [request, p] of pending)
      line(request, p, p.status === 0 ? '→ no answer' : `→ ${p.status}, body not read`);
    pending.clear();
  };
}

/** `--verbose` output of verification: each check's result per signature. */
export function checkLines(
  signatures: readonly {
    signature: string;
    checks: readonly {
      check: string;
      status: string;
      action: string;
      error?: { message: string; code: string };
      detail?: string;
    }[];
  }[],
): string {
  let text = '';
  for (const s of signatures) {
    text += `signature ${s.signature}:\n`;
    for (const c of s.checks) {
      const why = c.error === undefined ? '' : `: ${c.error.message} [${c.error.code}]`;
      const detail = c.detail === undefined ? '' : ` — ${c.detail}`;
      text += `  ${c.check}: ${c.status} (${c.action})${why}${detail}\n`;
    }
  }
  return text;
}
