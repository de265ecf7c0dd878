import type { Certificate, CertificateCache } from '../x509/index.js';
import type { Answer, Attempt } from './checker-types.js';
import { describe } from './checker-types.js';
import {
  freshestCrlOf,
  lookupCertificate,
  validateCrl,
  validateDelta,
  type FreshestCrlPointer,
  type ParsedCrl,
} from './crl.js';
import { isHttpUrl } from './fetcher.js';
import type { RevocationMaterial } from './material.js';
import { evaluateOcspResponse } from './ocsp.js';

/**
 * Answers from what the checker already holds: a validated complete CRL (with its delta), and the
 * operator-supplied material. Fetching stays in checker.ts; these decide from what it gives them.
 */
export interface AnswerContext {
  readonly material: RevocationMaterial;
  readonly skewMs: number;
  /** At most this many delta CRL URLs are tried. */
  readonly maxUrls: number;
  readonly certificateCache: CertificateCache | undefined;
  /** A CRL fetched from `url` and validated for `issuer` at `at` (checker.ts; cached). */
  validCrl(url: string, issuer: Certificate, at: Date): Promise<{ crl: ParsedCrl; cached: boolean }>;
}

/**
 * The certificate's status in a validated complete CRL, with the delta CRL it points to applied
 * (a pointer is never ignored: without the delta there is no current answer). The delta comes
 * from the operator-supplied material when one there applies, else from its URLs.
 */
export async function answerFromCrl(
  ctx: AnswerContext,
  cert: Certificate,
  issuer: Certificate,
  at: Date,
  base: ParsedCrl,
  where: { readonly name: string; readonly url: string; readonly answeredBy: string },
): Promise<Answer | { error: string }> {
  let certFreshest: FreshestCrlPointer | undefined;
  try {
    certFreshest = freshestCrlOf(cert);
  } catch (error) {
    return { error: `certificate Freshest CRL extension cannot be read: ${describe(error)}` };
  }
  const pointers = [base.freshest, certFreshest].filter((p): p is FreshestCrlPointer => p !== undefined);
  const broken = pointers.find((p) => p.error !== undefined);
  if (broken !== undefined) return { error: `${where.name}: ${broken.error ?? ''}` };
  const deltaUrls = [...new Set(pointers.flatMap((p) => p.urls))];
  let delta: ParsedCrl | undefined;
  let deltaFrom = '';
  if (deltaUrls.length > 0) {
    const deltaErrors: string[] = [];
    for (const candidate of ctx.material.deltaCrlsFor(issuer)) {
      const valid = validateCrl(candidate.crl, issuer, at, ctx.skewMs);
      const ok = valid.ok ? validateDelta(base, candidate.crl) : valid;
      if (!ok.ok) {
        deltaErrors.push(`preloaded delta CRL ${candidate.origin}: ${ok.reason}`);
        continue;
      }
      delta = candidate.crl;
      deltaFrom = `preloaded delta CRL ${candidate.origin}`;
      break;
    }
    for (const deltaUrl of delta === undefined ? deltaUrls.slice(0, ctx.maxUrls) : []) {
      if (!isHttpUrl(deltaUrl)) {
        deltaErrors.push(`delta CRL location ${deltaUrl} is not an HTTP(S) URL`);
        continue;
      }
      try {
        const { crl: candidate, cached } = await ctx.validCrl(deltaUrl, issuer, at);
        const ok = validateDelta(base, candidate);
        if (!ok.ok) throw new Error(`delta CRL ${deltaUrl}: ${ok.reason}`);
        delta = candidate;
        deltaFrom = `delta CRL ${deltaUrl}${cached ? ' (cached)' : ''}`;
        break;
      } catch (error) {
        deltaErrors.push(describe(error));
      }
    }
    if (delta === undefined) {
      return {
        error: `${where.name} points to a delta CRL that could not be obtained: ${deltaErrors.join('; ')}`,
      };
    }
  }
  const found = lookupCertificate(cert, base, delta);
  if (found.status === 'unknown') return { error: `${where.name}: ${found.detail}` };
  return {
    ...found,
    status: found.status,
    detail: `${where.name}: ${found.detail}`,
    source: 'crl',
    url: where.url,
    answeredBy: delta === undefined ? where.answeredBy : `${where.answeredBy} with ${deltaFrom}`,
  };
}

/**
 * Operator-supplied material, before any fetch: OCSP responses for the certificate's serial,
 * then complete CRLs of its issuer, each judged as a fetched one would be.
 */
export async function answerFromMaterial(
  ctx: AnswerContext,
  cert: Certificate,
  issuer: Certificate,
  at: Date,
): Promise<Attempt> {
  const material = ctx.material;
  if (material.empty) return { details: [] };
  const details: string[] = [];
  // Every current response is judged before one answers: a "good" supplied earlier (an older
  // file, still current) must not hide a "revoked" supplied beside it. Revoked wins.
  let good: Answer | undefined;
  for (const item of material.ocspResponsesFor(cert)) {
    const outcome = evaluateOcspResponse(item.der, {
      cert,
      issuer,
      at,
      skewMs: ctx.skewMs,
      ...(ctx.certificateCache === undefined ? {} : { certificateCache: ctx.certificateCache }),
    });
    const name = `preloaded OCSP response ${item.origin}`;
    // Without nextUpdate a response is current only when it is made (RFC 6960 §2.4); a file of
    // it may be months old, so its "good" is no answer (its "revoked" stays true).
    if (outcome.status === 'good' && outcome.nextUpdate === undefined) {
      details.push(
        `${name}: OCSP status good, but the response has no nextUpdate, so it says nothing of any later time`,
      );
      continue;
    }
    if (outcome.status === 'good' || outcome.status === 'revoked') {
      const answer: Answer = {
        status: outcome.status,
        detail: `${name}: ${outcome.detail}`,
        source: 'ocsp',
        url: item.origin,
        answeredBy: name,
        ...(outcome.revokedAt === undefined ? {} : { revokedAt: outcome.revokedAt }),
        ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
      };
      if (outcome.status === 'revoked') return { answer, details };
      good ??= answer;
      continue;
    }
    details.push(`${name}: ${outcome.detail}`);
  }
  if (good !== undefined) return { answer: good, details };
  for (const item of material.crlsFor(cert, issuer)) {
    const name = `preloaded CRL ${item.origin}`;
    const valid = validateCrl(item.crl, issuer, at, ctx.skewMs);
    if (!valid.ok) {
      details.push(`${name}: ${valid.reason}`);
      continue;
    }
    const answer = await answerFromCrl(ctx, cert, issuer, at, item.crl, {
      name,
      url: item.origin,
      answeredBy: name,
    });
    if ('error' in answer) {
      details.push(answer.error);
      continue;
    }
    return { answer, details };
  }
  return { details };
}
