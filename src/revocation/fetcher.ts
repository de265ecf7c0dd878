/**
 * The one I/O seam of revocation checking. The checker never opens a socket itself: it asks an
 * injected fetcher for bytes, with a deadline and a byte cap. `http-fetcher.ts` is the undici
 * implementation; tests and air-gapped deployments inject their own.
 */

export interface FetchInit {
  readonly method: 'GET' | 'POST';
  readonly body?: Uint8Array;
  /** Content-Type of the body (POST). */
  readonly contentType?: string;
  /** The whole exchange (connect, send, receive the body) must finish within this many ms. */
  readonly deadlineMs: number;
  /** Refuse responses with more body bytes than this. */
  readonly maxBytes: number;
}

export interface RevocationFetcher {
  /** Resolves with the response body of a 200 answer; rejects (preferably with RevocationFetchError) otherwise. */
  fetch(url: string, init: FetchInit): Promise<Uint8Array>;
}

export type FetchFailure = 'timeout' | 'too-large' | 'http-status' | 'network' | 'unsupported-url';

/** Why a fetch failed, for the "responder unreachable" cause in results. */
export class RevocationFetchError extends Error {
  readonly url: string;
  readonly kind: FetchFailure;

  constructor(url: string, kind: FetchFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RevocationFetchError';
    this.url = url;
    this.kind = kind;
  }
}

/** Only plain HTTP(S) locations are fetched (Notary spec: CRL URLs must be HTTP(S); OCSP is HTTP). */
export function isHttpUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
