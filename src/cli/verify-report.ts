import type { ArtifactVerification } from '../verify/index.js';

/** The `--output json` object of `portcullis verify` (documented in README: stable field names). */
export interface VerifyReport {
  readonly verified: boolean;
  readonly reference: string;
  /** The reference as read (canonical registry, Docker Hub folded), when it differs from `reference`. */
  readonly canonical?: string;
  readonly digest: string;
  readonly signature: string | null;
  readonly failedCheck: string | null;
  readonly code: string | null;
  readonly message: string;
  readonly policy: string | null;
  readonly warnings: readonly { check: string; message: string }[];
}

export function toReport(result: ArtifactVerification, canonical?: string): VerifyReport {
  const read = canonical === undefined || canonical === result.reference ? undefined : canonical;
  return {
    verified: result.verified,
    reference: result.reference,
    ...(read === undefined ? {} : { canonical: read }),
    digest: result.artifact.digest,
    signature: result.signature,
    failedCheck: result.failedCheck,
    code: result.error?.code ?? null,
    message: messageOf(result, read),
    policy: result.policy.name,
    warnings: result.warnings.map((w) => ({ check: w.check, message: w.message })),
  };
}

function messageOf(result: ArtifactVerification, canonical: string | undefined): string {
  const at = `${result.reference}@${result.artifact.digest}`.replace(/@(sha\d+:[0-9a-f]+)@\1$/, '@$1');
  const where = canonical === undefined ? at : `${at} (read as ${canonical})`;
  const policy = `trust policy "${result.policy.name}" (${result.policy.level})`;
  if (result.skipped)
    return `signature verification of ${where} skipped: ${policy} is configured to skip signature verification`;
  if (result.verified) return `successfully verified signature ${result.signature ?? ''} of ${where} with ${policy}`;
  const check = result.failedCheck === null ? '' : `${result.failedCheck} check failed: `;
  return `verification of ${where} failed under ${policy}: ${check}${result.error?.message ?? 'unknown error'}`;
}

/** One line a person can act on, plus one line per warning. */
export function humanReport(report: VerifyReport): string {
  const head = report.verified ? report.message : `${report.message} [${report.code ?? 'ERR_INTERNAL'}]`;
  return [head, ...report.warnings.map((w) => `warning: ${w.message}`)].join('\n') + '\n';
}
