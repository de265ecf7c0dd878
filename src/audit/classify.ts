import type { ImageDecision, PolicyVerdict } from '../executor/index.js';

/**
 * What an audit says of one image decision, in the words of the table and of a PolicyReport.
 *
 * `decision` is what the webhook does with the image today: `allowed`, `denied`, `warned`
 * (admitted with a warning: a `warn` policy rejects it), `dryrun-denied` (admitted: only a
 * `dryrun` policy rejects it — what switching that policy to `deny` would deny).
 * `result` is the wg-policy result: `pass` (every applicable policy verified it), `fail`,
 * `warn`, `error` (no verdict could be reached: registry, deadline), `skip` (no policy applies,
 * or the statement's level is `skip`).
 */
export type AuditDecision = 'allowed' | 'denied' | 'warned' | 'dryrun-denied';
export type ReportResult = 'pass' | 'fail' | 'warn' | 'error' | 'skip';

export interface Classified {
  readonly decision: AuditDecision;
  readonly result: ReportResult;
  /** The policy resource that decided (`TrustPolicy team-a/prod`), when one did. */
  readonly policy?: string;
  /** Its trust policy statement. */
  readonly rule?: string;
  readonly code?: string;
  /** One line: why. */
  readonly reason: string;
}

/** The verdict that explains the decision: the first rejecting one, deny before warn before dryrun. */
export function decidingVerdict(decision: ImageDecision): PolicyVerdict | undefined {
  const rejecting = decision.verdicts.filter((v) => !v.verified);
  for (const action of ['deny', 'warn', 'dryrun'] as const) {
    const v = rejecting.find((r) => r.enforcementAction === action);
    if (v !== undefined) return v;
  }
  return decision.verdicts[0];
}

export function classify(decision: ImageDecision): Classified {
  const verdict = decidingVerdict(decision);
  const named = {
    ...(verdict === undefined ? {} : { policy: verdict.policy }),
    ...(verdict?.statement === undefined ? {} : { rule: verdict.statement }),
  };
  if (decision.error !== undefined) {
    return {
      decision: decision.allowed ? 'allowed' : 'denied',
      result: 'error',
      ...named,
      code: decision.error.code,
      reason: decision.reason ?? decision.error.message,
    };
  }
  if (!decision.allowed) {
    return {
      decision: 'denied',
      result: 'fail',
      ...named,
      ...(verdict?.code == null ? {} : { code: verdict.code }),
      reason: decision.reason ?? verdict?.message ?? 'denied',
    };
  }
  if (verdict === undefined) return { decision: 'allowed', result: 'skip', reason: 'no policy applies to this image' };
  if (!verdict.verified) {
    const warn = verdict.enforcementAction === 'warn';
    return {
      decision: warn ? 'warned' : 'dryrun-denied',
      result: warn ? 'warn' : 'fail',
      ...named,
      ...(verdict.code === null ? {} : { code: verdict.code }),
      reason: `${verdict.policy}${verdict.statement === undefined ? '' : ` statement ${JSON.stringify(verdict.statement)}`}: ${verdict.message}`,
    };
  }
  const skipped = decision.verdicts.every((v) => v.skipped === true);
  return { decision: 'allowed', result: skipped ? 'skip' : 'pass', ...named, reason: verdict.message };
}

/** Whether the audit's exit status is 1: the webhook denies it, or would once its policies enforce. */
export function wouldDeny(decision: AuditDecision): boolean {
  return decision !== 'allowed';
}
