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
 * Operator-supplied material, before any fetch: every OCSP response for the certificate's serial
 * and every complete CRL of its issuer is judged as a fetched one would be, and then revoked wins:
 * when any current, correctly signed item says revoked, the answer is revoked, whatever another
 * item (an OCSP "good" from before the revocation, an older CRL) says. notation asks one source
 * at a time and never goes on after "revoked"; here the sources were all handed over at once, so
 * none of them may hide another's "revoked" by being read first. Of several revocations, the one
 * taking effect earliest answers (the signing time is weighed against it). With no revocation, an
 * OCSP "good" answers before a CRL's, as notation prefers OCSP.
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
  const answers: Answer[] = [];
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
      answers.push({
        status: outcome.status,
        detail: `${name}: ${outcome.detail}`,
        source: 'ocsp',
        url: item.origin,
        answeredBy: name,
        ...(outcome.revokedAt === undefined ? {} : { revokedAt: outcome.revokedAt }),
        ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
      });
      continue;
    }
    details.push(`${name}: ${outcome.detail}`);
  }
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
    answers.push(answer);
  }
  const revoked = answers.filter((a) => a.status === 'revoked').sort(earliestEffect)[0];
  const answer = revoked ?? answers.find((a) => a.status === 'good');
  return answer === undefined ? { details } : { answer, details };
}

/** Earliest effective revocation first; one without a (readable) date counts from the beginning of time. */
function earliestEffect(a: Answer, b: Answer): number {
  // An unreadable date (NaN) also counts from the beginning of time: the strictest reading.
  const time = (x: Answer) => {
    const t = (x.invalidityDate ?? x.revokedAt)?.getTime();
    return t === undefined || Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
  };
  const d = time(a) - time(b);
  return Number.isNaN(d) ? 0 : d;
}
