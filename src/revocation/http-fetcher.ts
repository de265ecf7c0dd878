import { request, type Dispatcher } from 'undici';
import { isHttpUrl, RevocationFetchError, type FetchInit, type RevocationFetcher } from './fetcher.js';
import { USER_AGENT } from '../util/index.js';

/**
 * The undici implementation of RevocationFetcher: GET for CRLs, POST application/ocsp-request for
 * OCSP. The deadline covers the whole exchange (an AbortSignal fires at `deadlineMs`), and the body
 * is read only up to `maxBytes` (a declared Content-Length above the cap is refused before reading;
 * otherwise reading stops at the first byte past the cap). Redirects are not followed. Only
 * http: and https: URLs are fetched.
 */
export interface HttpRevocationFetcherOptions {
  /** An undici dispatcher (Agent, ProxyAgent, MockAgent); default the global one. */
  readonly dispatcher?: Dispatcher;
  readonly userAgent?: string;
}

export class HttpRevocationFetcher implements RevocationFetcher {
  readonly #dispatcher: Dispatcher | undefined;
  readonly #userAgent: string;

  constructor(options: HttpRevocationFetcherOptions = {}) {
    this.#dispatcher = options.dispatcher;
    this.#userAgent = options.userAgent ?? USER_AGENT;
  }

  async fetch(url: string, init: FetchInit): Promise<Uint8Array> {
    if (!isHttpUrl(url)) throw new RevocationFetchError(url, 'unsupported-url', `${url} is not an HTTP(S) URL`);
    const controller = new AbortController();
    const timeout = new RevocationFetchError(url, 'timeout', `no complete answer within ${init.deadlineMs} ms`);
    const timer = setTimeout(() => controller.abort(timeout), init.deadlineMs);
    try {
      const headers: Record<string, string> = { 'user-agent': this.#userAgent };
      if (init.contentType !== undefined) headers['content-type'] = init.contentType;
      if (init.method === 'POST') headers.accept = 'application/ocsp-response';
      const response = await request(url, {
        method: init.method,
        headers,
        ...(init.body === undefined
          ? {}
          : { body: Buffer.from(init.body.buffer, init.body.byteOffset, init.body.byteLength) }),
        signal: controller.signal,
        ...(this.#dispatcher === undefined ? {} : { dispatcher: this.#dispatcher }),
      });
      const { body } = response;
      if (response.statusCode !== 200) {
        discard(body);
        throw new RevocationFetchError(url, 'http-status', `HTTP status ${response.statusCode}`);
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > init.maxBytes) {
        discard(body);
        throw new RevocationFetchError(
          url,
          'too-large',
          `response of ${declared} bytes exceeds the cap of ${init.maxBytes} bytes`,
        );
      }
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of body) {
        const buf = chunk as Buffer;
        total += buf.length;
        if (total > init.maxBytes) {
          discard(body);
          throw new RevocationFetchError(url, 'too-large', `response exceeds the cap of ${init.maxBytes} bytes`);
        }
        chunks.push(buf);
      }
      return new Uint8Array(Buffer.concat(chunks, total));
    } catch (error) {
      if (error instanceof RevocationFetchError) throw error;
      if (controller.signal.aborted) throw timeout;
      throw new RevocationFetchError(url, 'network', (error as Error).message, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}

// Destroying an undici body emits an abort error; nobody is listening any more, so swallow it.
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}
