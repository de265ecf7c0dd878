import type { Metrics } from '../metrics/index.js';
import type { RevocationChecker } from '../verify/index.js';

/** The source of a revocation answer, from its `answeredBy` words (a fixed list: a label value). */
export function revocationSource(answeredBy: string | undefined): string {
  if (answeredBy === undefined) return 'none';
  if (answeredBy.startsWith('preloaded')) return 'preloaded';
  if (answeredBy.startsWith('OCSP')) return 'ocsp';
  if (answeredBy.startsWith('CRL')) return 'crl';
  return 'none';
}

/** A RevocationChecker that counts each certificate's answer (portcullis_revocation_answers_total). */
export function countingRevocation(checker: RevocationChecker, metrics: Metrics): RevocationChecker {
  return {
    async check(chain, at) {
      const result = await checker.check(chain, at);
      for (const c of result.certificates) metrics.observeRevocation(c.status, revocationSource(c.answeredBy));
      return result;
    },
  };
}
