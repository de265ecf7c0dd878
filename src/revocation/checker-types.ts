import { type CertificateCache } from '../x509/index.js';
import type { RevocationResult, RevocationStatus } from '../verify/index.js';
import { ByteLruCache } from './cache.js';
import { type ParsedCrl } from './crl.js';
import { RevocationFetchError, type RevocationFetcher } from './fetcher.js';
import { type OcspOutcome } from './ocsp.js';
import type { RevocationMaterial } from './material.js';

/** The revocation checker's options, results and cache, and how results combine (checker.ts checks). */

export interface OnlineRevocationCheckerOptions {
  readonly fetcher: RevocationFetcher;
  /** 'online' (default) fetches; 'offline' answers from the cache only. */
  readonly mode?: 'online' | 'offline';
  /** Clock in epoch ms, used only to expire cache entries (default Date.now). */
  readonly now?: () => number;
  /** Per OCSP request (notation: 2 s). */
  readonly ocspTimeoutMs?: number;
  /** Per CRL download (Notary spec: 5 s). */
  readonly crlTimeoutMs?: number;
  /** OCSP response cap (default 64 KiB: real responses are 1–5 KiB even with a responder certificate). */
  readonly ocspMaxBytes?: number;
  /** CRL cap (default 32 MiB: large public CAs publish CRLs of several MiB; beyond 32 MiB is refused). */
  readonly crlMaxBytes?: number;
  /** Cache budget in bytes (default 64 MiB: room for two maximal CRLs plus many OCSP answers). */
  readonly cacheMaxBytes?: number;
  /** Send an RFC 8954 nonce with OCSP requests (default false, like notation; a nonce defeats responder caching). */
  readonly ocspNonce?: boolean;
  /** Tolerated clock skew for thisUpdate in the future (default 5 min). */
  readonly skewMs?: number;
  /** At most this many OCSP and this many CRL URLs are tried per certificate (default 4), bounding the total time. */
  readonly maxUrlsPerCertificate?: number;
  /** Parses embedded OCSP responder certificates through this cache. */
  readonly certificateCache?: CertificateCache;
  /**
   * A cache to use (and share, e.g. between an online checker that fills it and an offline one);
   * by default the checker makes its own of `cacheMaxBytes` with the `now` clock.
   */
  readonly cache?: RevocationCache;
  /**
   * Operator-supplied CRLs and OCSP responses, consulted before any fetch (a function when the
   * material can change while the checker lives: each check reads the current one).
   */
  readonly material?: RevocationMaterial | (() => RevocationMaterial);
}

/** Verified OCSP answers and CRLs by URL, bounded by bytes, expiring at their nextUpdate. */
export class RevocationCache extends ByteLruCache<OcspOutcome | ParsedCrl> {
  constructor(maxBytes = 64 * 1024 * 1024, now: () => number = Date.now) {
    super(maxBytes, now);
  }
}

/** A per-certificate result with the evidence: where the answer came from. */
export interface CertificateRevocation {
  readonly status: RevocationStatus;
  readonly revokedAt?: Date;
  readonly reason?: string;
  readonly invalidityDate?: Date;
  /** Why: the answer, or the causes of unknown (unreachable responder with its URL, stale answer, …). */
  readonly detail?: string;
  readonly source?: 'ocsp' | 'crl';
  /** The responder or distribution point URL, or for operator-supplied material where it came from. */
  readonly url?: string;
  /** Which source answered, in words: "OCSP responder http://…", "CRL http://… (cached)", "preloaded CRL /…/ca.crl". */
  readonly answeredBy?: string;
}

export interface DetailedRevocationResult extends RevocationResult {
  readonly certificates: readonly CertificateRevocation[];
}

export interface RevocationCheckerStats {
  /** Requests handed to the fetcher. */
  readonly fetches: number;
  /** Answers served from the cache. */
  readonly cacheHits: number;
  readonly cacheBytes: number;
}

export type Answer = CertificateRevocation & { readonly status: 'good' | 'revoked' };

export interface Attempt {
  readonly answer?: Answer;
  readonly details: readonly string[];
}

export function describe(error: unknown): string {
  if (error instanceof RevocationFetchError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function applySigningTime(result: CertificateRevocation, signingTime: Date | undefined): CertificateRevocation {
  if (result.status !== 'revoked' || signingTime === undefined) return result;
  const effective = result.invalidityDate ?? result.revokedAt;
  // No date, or one that cannot be read: the revocation stands (never turned into "good").
  if (effective === undefined || !Number.isFinite(effective.getTime()) || effective.getTime() <= signingTime.getTime())
    return result;
  return {
    ...result,
    status: 'good',
    detail: `${result.detail ?? 'revoked'}; the revocation takes effect at ${effective.toISOString()}, after the authentic signing time ${signingTime.toISOString()}, so the signature stands`,
  };
}

export function aggregate(certificates: readonly CertificateRevocation[]): RevocationStatus {
  if (certificates.some((c) => c.status === 'revoked')) return 'revoked';
  if (certificates.some((c) => c.status === 'unknown')) return 'unknown';
  if (certificates.some((c) => c.status === 'good')) return 'good';
  return 'nonRevokable';
}
