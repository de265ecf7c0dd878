import type { KubeConfig } from '@kubernetes/client-node';
import { Agent, request } from 'undici';
import { PortcullisError } from '../errors/index.js';

/**
 * API requests over one kept-alive connection pool. The generated clients of
 * @kubernetes/client-node 1.x make a new https.Agent for every call: a new TLS connection and
 * TLS context each time, which at thousands of status writes cost CPU on both sides and grew
 * RSS by tens of MiB (bench: `npm run bench -- policies`). Credentials are still taken from the
 * KubeConfig for every request (a rotated service-account token is read again); the pool is
 * rebuilt when its TLS material changes.
 */

export interface KubeRequestOptions {
  /** Requests awaiting answers at once (connections kept). Default 8. */
  readonly connections?: number;
  /** Deadline of each request. Default 30 s. */
  readonly timeoutMs?: number;
  /** Bytes of an answer read at most. Default 1 MiB. */
  readonly maxResponseBytes?: number;
}

/** An API answer that is not 2xx, shaped as the generated clients' ApiException (`code`, `body`). */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
  ) {
    super(`HTTP ${code}`);
  }
}

interface Tls {
  readonly ca?: Buffer | string;
  readonly cert?: Buffer | string;
  readonly key?: Buffer | string;
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
}

const same = (a: Tls, b: Tls): boolean =>
  String(a.ca) === String(b.ca) &&
  String(a.cert) === String(b.cert) &&
  String(a.key) === String(b.key) &&
  a.rejectUnauthorized === b.rejectUnauthorized &&
  a.servername === b.servername;

export class KubeRequester {
  readonly #kubeConfig: KubeConfig;
  readonly #server: string;
  readonly #connections: number;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  #pool: { tls: Tls; agent: Agent } | undefined;

  constructor(kubeConfig: KubeConfig, options: KubeRequestOptions = {}) {
    this.#kubeConfig = kubeConfig;
    const cluster = kubeConfig.getCurrentCluster();
    if (cluster === null) throw new PortcullisError('ERR_CONFIG_INVALID', 'the kubeconfig has no current cluster');
    this.#server = cluster.server.replace(/\/+$/, '');
    this.#connections = options.connections ?? 8;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#maxBytes = options.maxResponseBytes ?? 1024 * 1024;
  }

  /** Whether this path can serve the kubeconfig (no proxy: those stay with the generated clients). */
  static supports(kubeConfig: KubeConfig): boolean {
    const cluster = kubeConfig.getCurrentCluster();
    return cluster !== null && (cluster.proxyUrl ?? '') === '' && cluster.server.startsWith('https:');
  }

  /**
   * Sends one request; resolves with the answer's text (or '' with `how.discard`: the caller needs only
   * the status, so the object the API server echoes is never turned into a string), throws
   * KubeApiError for a non-2xx answer.
   */
  async send(
    method: 'GET' | 'PATCH' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
    contentType?: string,
    how: { readonly discard?: boolean; readonly maxBytes?: number } = {},
  ): Promise<string> {
    const maxBytes = how.maxBytes ?? this.#maxBytes;
    const options: { headers?: Record<string, string> } & Tls = {};
    await this.#kubeConfig.applyToHTTPSOptions(options as never); // credentials, read anew each time
    const tls: Tls = {
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.cert === undefined ? {} : { cert: options.cert }),
      ...(options.key === undefined ? {} : { key: options.key }),
      ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
      ...(options.servername === undefined ? {} : { servername: options.servername }),
    };
    if (this.#pool === undefined || !same(this.#pool.tls, tls)) {
      const old = this.#pool?.agent;
      this.#pool = {
        tls,
        agent: new Agent({ connect: { ...tls }, connections: this.#connections, pipelining: 1 }),
      };
      if (old !== undefined) void old.close().catch(() => undefined);
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = String(value);
    const auth = (options as { auth?: string }).auth;
    if (auth !== undefined) headers['authorization'] = `Basic ${Buffer.from(auth).toString('base64')}`;
    if (body !== undefined) headers['content-type'] = contentType ?? 'application/json';
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const res = await request(`${this.#server}${path}`, {
      method,
      headers,
      dispatcher: this.#pool.agent,
      signal,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const ok = res.statusCode >= 200 && res.statusCode <= 299;
    if (ok && how.discard === true) {
      await res.body.dump({ limit: maxBytes });
      return '';
    }
    // Whole chunks first: a UTF-8 character may be split between two of them.
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        res.body.destroy();
        throw new PortcullisError(
          'ERR_SIZE_LIMIT',
          `the API server's answer to ${method} ${path} is over ${maxBytes} bytes`,
        );
      }
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (!ok) throw new KubeApiError(res.statusCode, text);
    return text;
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.agent.close();
  }
}
