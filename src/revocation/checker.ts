import { randomBytes } from 'node:crypto';
import { type CertificateCache, isIssuedBy, isSelfSigned, type Certificate } from '../x509/index.js';
import type { RevocationChecker } from '../verify/index.js';
import { SingleFlight } from '../util/index.js';
import { parseCrl, validateCrl, type ParsedCrl } from './crl.js';
import { isHttpUrl, RevocationFetchError, type FetchInit, type RevocationFetcher } from './fetcher.js';
import { RevocationMaterial } from './material.js';
import {
  DEFAULT_SKEW_MS,
  buildOcspRequest,
  evaluateOcspResponse,
  normalizeSerial,
  type OcspOutcome,
  type OcspRequest,
} from './ocsp.js';
import {
  RevocationCache,
  describe,
  hex,
  applySigningTime,
  aggregate,
  type OnlineRevocationCheckerOptions,
  type CertificateRevocation,
  type DetailedRevocationResult,
  type RevocationCheckerStats,
  type Attempt,
} from './checker-types.js';
import { answerFromCrl, answerFromMaterial, type AnswerContext } from './crl-answer.js';

export { RevocationCache } from './checker-types.js';
export type {
  CertificateRevocation,
  DetailedRevocationResult,
  OnlineRevocationCheckerOptions,
  RevocationCheckerStats,
} from './checker-types.js';

/**
 * The OCSP/CRL revocation checker (Notary trust-store-trust-policy spec, "Certificate Revocation
 * Evaluation"; notation-core-go `revocation`), injected into the pure core as a RevocationChecker.
 *
 * - Every certificate of the chain is checked against the next one as its issuer, except the last
 *   (the root, self-signed: never revocation-checked). A certificate with neither an OCSP nor a
 *   CRL location is `nonRevokable`, which passes.
 * - OCSP first, each URL in order until one gives a verified answer. CRL (each distribution point
 *   in order) only when OCSP gave no good/revoked answer (unreachable, invalid, stale, or status
 *   unknown) — never after revoked.
 * - Any certificate revoked → revoked; otherwise any unknown → unknown.
 * - `signingTime` is passed only for notary.x509.signingAuthority (the authentic signing time): a
 *   revocation whose invalidity date (CRL entry) or else revocation time is after it does not
 *   invalidate the signature, and the certificate counts as good.
 * - Answers are cached until their nextUpdate (verified answers only, bounded by bytes, LRU), and
 *   concurrent checks share one fetch per URL (single flight).
 *
 * Operator-supplied material (`material`: CRLs and OCSP responses given as files, see
 * material.ts) is consulted first, before any fetch and in both modes, and judged like a fetched
 * answer; when it gives no answer (none for this certificate, stale, not signed by the issuer)
 * the certificate is checked as if there were none.
 *
 * Offline mode (`mode: 'offline'`, for air-gapped clusters) makes no request at all: a certificate
 * with OCSP or CRL locations is `unknown` unless the operator-supplied material or a still-valid
 * answer in the cache (which only an earlier online use of the same checker fills) answers. What
 * that means per trust-policy level, with
 * the default actions: strict (revocation enforce) rejects every signature whose chain has
 * revocation locations (ERR_REVOCATION_UNKNOWN), and — because the TSA chain is checked as part of
 * authenticTimestamp — also rejects timestamped signatures whose TSA chain has such locations;
 * permissive and audit (revocation log) accept with a warning (a TSA-chain unknown is also only
 * logged: authenticTimestamp is log there); skip does not verify at all. A policy that wants
 * offline enforcement of everything else sets `override: {revocation: log}` or `skip`.
 */

export class OnlineRevocationChecker implements RevocationChecker {
  readonly #fetcher: RevocationFetcher;
  readonly #offline: boolean;
  readonly #now: () => number;
  readonly #ocspTimeoutMs: number;
  readonly #crlTimeoutMs: number;
  readonly #ocspMaxBytes: number;
  readonly #crlMaxBytes: number;
  readonly #nonce: boolean;
  readonly #skewMs: number;
  readonly #maxUrls: number;
  readonly #certificateCache: CertificateCache | undefined;
  readonly #cache: RevocationCache;
  readonly #material: () => RevocationMaterial;
  readonly #ocspFlights = new SingleFlight();
  readonly #crlFlights = new SingleFlight();
  #fetches = 0;
  #cacheHits = 0;
  // Per-certificate memos (certificates are shared objects through a CertificateCache): chain
  // signature checks and OCSP requests cost more than the cached answer itself.
  readonly #issuedBy = new WeakMap<Certificate, Map<string, boolean>>();
  readonly #requests = new WeakMap<Certificate, Map<string, { request: OcspRequest; idKey: string }>>();

  constructor(options: OnlineRevocationCheckerOptions) {
    this.#fetcher = options.fetcher;
    this.#offline = options.mode === 'offline';
    this.#now = options.now ?? Date.now;
    this.#ocspTimeoutMs = options.ocspTimeoutMs ?? 2000;
    this.#crlTimeoutMs = options.crlTimeoutMs ?? 5000;
    this.#ocspMaxBytes = options.ocspMaxBytes ?? 64 * 1024;
    this.#crlMaxBytes = options.crlMaxBytes ?? 32 * 1024 * 1024;
    this.#nonce = options.ocspNonce ?? false;
    this.#skewMs = options.skewMs ?? DEFAULT_SKEW_MS;
    this.#maxUrls = options.maxUrlsPerCertificate ?? 4;
    this.#certificateCache = options.certificateCache;
    this.#cache = options.cache ?? new RevocationCache(options.cacheMaxBytes ?? 64 * 1024 * 1024, this.#now);
    const material = options.material;
    this.#material = typeof material === 'function' ? material : () => material ?? RevocationMaterial.EMPTY;
  }

  get stats(): RevocationCheckerStats {
    return { fetches: this.#fetches, cacheHits: this.#cacheHits, cacheBytes: this.#cache.bytes };
  }

  /** Drops every cached answer. */
  clearCache(): void {
    this.#cache.clear();
  }

  async check(
    chain: readonly Certificate[],
    at: { signingTime?: Date; verificationTime: Date },
  ): Promise<DetailedRevocationResult> {
    const certificates = await Promise.all(
      chain.map(async (cert, i): Promise<CertificateRevocation> => {
        const issuer = chain[i + 1];
        if (issuer === undefined) {
          if (this.#isIssuedBy(cert, cert))
            return { status: 'nonRevokable', detail: 'root certificate: not revocation-checked' };
          if (cert.ocspUrls.length === 0 && cert.crlUrls.length === 0)
            return { status: 'nonRevokable', detail: 'no OCSP or CRL location' };
          return { status: 'unknown', detail: 'the issuer of the last certificate is not in the chain' };
        }
        const result = await this.#checkCertificate(cert, issuer, at.verificationTime);
        return applySigningTime(result, at.signingTime);
      }),
    );
    return { status: aggregate(certificates), certificates };
  }

  async #checkCertificate(cert: Certificate, issuer: Certificate, at: Date): Promise<CertificateRevocation> {
    const ocspUrls = cert.ocspUrls.slice(0, this.#maxUrls);
    const crlUrls = cert.crlUrls.slice(0, this.#maxUrls);
    if (ocspUrls.length === 0 && crlUrls.length === 0)
      return { status: 'nonRevokable', detail: 'no OCSP or CRL location' };
    if (!this.#isIssuedBy(cert, issuer)) {
      return {
        status: 'unknown',
        detail: `certificate is not issued by "${issuer.subject}", the next certificate of the chain`,
      };
    }
    const details: string[] = [];
    const preloaded = await answerFromMaterial(this.#answerContext(), cert, issuer, at);
    if (preloaded.answer !== undefined) return preloaded.answer;
    details.push(...preloaded.details);
    if (ocspUrls.length > 0) {
      const ocsp = await this.#ocsp(cert, issuer, at, ocspUrls);
      if (ocsp.answer !== undefined) return ocsp.answer;
      details.push(...ocsp.details);
    }
    if (crlUrls.length > 0) {
      const crl = await this.#crl(cert, issuer, at, crlUrls);
      if (crl.answer !== undefined) return crl.answer;
      details.push(...crl.details);
    }
    return { status: 'unknown', detail: details.join('; ') };
  }

  /** isIssuedBy (isSelfSigned when issuer is cert), memoised per certificate pair. */
  #isIssuedBy(cert: Certificate, issuer: Certificate): boolean {
    let byIssuer = this.#issuedBy.get(cert);
    if (byIssuer === undefined) this.#issuedBy.set(cert, (byIssuer = new Map()));
    let ok = byIssuer.get(issuer.sha256);
    if (ok === undefined)
      byIssuer.set(issuer.sha256, (ok = cert === issuer ? isSelfSigned(cert) : isIssuedBy(cert, issuer)));
    return ok;
  }

  #ocspRequest(cert: Certificate, issuer: Certificate): { request: OcspRequest; idKey: string } {
    let byIssuer = this.#requests.get(cert);
    if (byIssuer === undefined) this.#requests.set(cert, (byIssuer = new Map()));
    let entry = byIssuer.get(issuer.sha256);
    if (entry === undefined) {
      const request = buildOcspRequest(cert, issuer);
      const id = request.certId;
      entry = {
        request,
        idKey: `${hex(id.issuerNameHash)}|${hex(id.issuerKeyHash)}|${normalizeSerial(id.serialNumber)}`,
      };
      byIssuer.set(issuer.sha256, entry);
    }
    return entry;
  }

  async #fetch(url: string, init: FetchInit): Promise<Uint8Array> {
    this.#fetches++;
    // The fetcher is asked to honour the deadline; this guard keeps the bound even if it does not.
    let timer: NodeJS.Timeout | undefined;
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RevocationFetchError(url, 'timeout', `no answer within ${init.deadlineMs} ms`)),
        init.deadlineMs + 50,
      );
    });
    try {
      return await Promise.race([this.#fetcher.fetch(url, init), guard]);
    } finally {
      clearTimeout(timer);
    }
  }

  #fresh(thisUpdate: Date | undefined, nextUpdate: Date | undefined, at: Date): boolean {
    if (thisUpdate !== undefined && thisUpdate.getTime() > at.getTime() + this.#skewMs) return false;
    return nextUpdate !== undefined && nextUpdate.getTime() > at.getTime();
  }

  async #ocsp(cert: Certificate, issuer: Certificate, at: Date, urls: readonly string[]): Promise<Attempt> {
    const details: string[] = [];
    const { request: probe, idKey } = this.#ocspRequest(cert, issuer);
    for (const url of urls) {
      if (!isHttpUrl(url)) {
        details.push(`OCSP location ${url} is not an HTTP(S) URL`);
        continue;
      }
      const key = `ocsp|${url}|${idKey}`;
      const cached = this.#cache.get(key) as OcspOutcome | undefined;
      let outcome: OcspOutcome;
      let answeredBy = `OCSP responder ${url}`;
      if (cached !== undefined && this.#fresh(cached.thisUpdate, cached.nextUpdate, at)) {
        this.#cacheHits++;
        outcome = cached;
        answeredBy += ' (cached answer)';
      } else if (this.#offline) {
        details.push(`offline mode: no cached OCSP response from ${url}`);
        continue;
      } else {
        let fetched: { bytes: Uint8Array; nonce?: Uint8Array };
        try {
          fetched = await this.#ocspFlights.run(key, async () => {
            const request = this.#nonce
              ? buildOcspRequest(cert, issuer, { nonce: new Uint8Array(randomBytes(16)) })
              : probe;
            const bytes = await this.#fetch(url, {
              method: 'POST',
              body: request.der,
              contentType: 'application/ocsp-request',
              deadlineMs: this.#ocspTimeoutMs,
              maxBytes: this.#ocspMaxBytes,
            });
            return { bytes, ...(request.nonce === undefined ? {} : { nonce: request.nonce }) };
          });
        } catch (error) {
          details.push(`OCSP responder ${url} unreachable: ${describe(error)}`);
          continue;
        }
        outcome = evaluateOcspResponse(fetched.bytes, {
          cert,
          issuer,
          at,
          skewMs: this.#skewMs,
          ...(fetched.nonce === undefined ? {} : { nonce: fetched.nonce }),
          ...(this.#certificateCache === undefined ? {} : { certificateCache: this.#certificateCache }),
        });
        if (outcome.status === 'invalid') {
          details.push(`OCSP response from ${url} not usable: ${outcome.detail}`);
          continue;
        }
        if (outcome.nextUpdate !== undefined)
          this.#cache.set(key, outcome, fetched.bytes.length + 256, outcome.nextUpdate.getTime());
      }
      if (outcome.status === 'good')
        return {
          answer: { status: 'good', detail: `OCSP responder ${url}: good`, source: 'ocsp', url, answeredBy },
          details,
        };
      if (outcome.status === 'revoked') {
        return {
          answer: {
            status: 'revoked',
            detail: `OCSP responder ${url}: ${outcome.detail}`,
            source: 'ocsp',
            url,
            answeredBy,
            ...(outcome.revokedAt === undefined ? {} : { revokedAt: outcome.revokedAt }),
            ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
          },
          details,
        };
      }
      // A verified "unknown" is an answer: the remaining URLs are not asked, the CRL may be.
      details.push(`OCSP responder ${url} answered status unknown`);
      return { details };
    }
    return { details };
  }

  async #crl(cert: Certificate, issuer: Certificate, at: Date, urls: readonly string[]): Promise<Attempt> {
    const details: string[] = [];
    for (const url of urls) {
      if (!isHttpUrl(url)) {
        details.push(`CRL location ${url} is not an HTTP(S) URL`);
        continue;
      }
      let base: ParsedCrl;
      let cached: boolean;
      try {
        ({ crl: base, cached } = await this.#validCrl(url, issuer, at));
      } catch (error) {
        details.push(describe(error));
        continue;
      }
      if (base.deltaBase !== undefined) {
        details.push(`CRL ${url} is a delta CRL, not a complete CRL`);
        continue;
      }
      const answer = await answerFromCrl(this.#answerContext(), cert, issuer, at, base, {
        name: `CRL ${url}`,
        url,
        answeredBy: `CRL ${url}${cached ? ' (cached)' : ''}`,
      });
      if ('error' in answer) {
        details.push(answer.error);
        continue;
      }
      return { answer, details };
    }
    return { details };
  }

  /** What the free answer functions (crl-answer.ts) need from this checker. */
  #answerContext(): AnswerContext {
    return {
      material: this.#material(),
      skewMs: this.#skewMs,
      maxUrls: this.#maxUrls,
      certificateCache: this.#certificateCache,
      validCrl: (url, issuer, at) => this.#validCrl(url, issuer, at),
    };
  }

  /** A CRL from `url`, validated for `issuer` at `at` (cached per URL and issuer until its nextUpdate). */
  async #validCrl(url: string, issuer: Certificate, at: Date): Promise<{ crl: ParsedCrl; cached: boolean }> {
    const key = `crl|${url}|${issuer.sha256}`;
    const cached = this.#cache.get(key) as ParsedCrl | undefined;
    if (cached !== undefined && this.#fresh(cached.thisUpdate, cached.nextUpdate, at)) {
      this.#cacheHits++;
      return { crl: cached, cached: true };
    }
    if (this.#offline) throw new Error(`offline mode: no cached CRL from ${url}`);
    let crl: ParsedCrl;
    try {
      crl = await this.#crlFlights.run(`crl|${url}`, async () =>
        parseCrl(
          await this.#fetch(url, { method: 'GET', deadlineMs: this.#crlTimeoutMs, maxBytes: this.#crlMaxBytes }),
        ),
      );
    } catch (error) {
      throw new Error(
        error instanceof RevocationFetchError
          ? `CRL ${url} unreachable: ${describe(error)}`
          : `CRL ${url}: ${describe(error)}`,
        { cause: error },
      );
    }
    const valid = validateCrl(crl, issuer, at, this.#skewMs);
    if (!valid.ok) throw new Error(`CRL ${url}: ${valid.reason}`);
    if (crl.nextUpdate !== undefined)
      this.#cache.set(key, crl, crl.der.length + crl.entries.size * 96 + 512, crl.nextUpdate.getTime());
    return { crl, cached: false };
  }
}
