import type { ArtifactVerification, ImageVerification } from '../verify/index.js';
import { attestationLine, decidedByPhrase } from './image-report.js';

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
  /** index | all | any-of-index-or-all. */
  readonly platforms?: string;
  /** Whose signatures decided (the manifest's own, the index's, each platform manifest's); empty when not verified. */
  readonly decidedBy?: ImageVerification['decidedBy'];
  /** The image index, when one took part (the reference's, or the one its tag names). */
  readonly index?: ImageVerification['index'];
  /** Every required artifact and why it passed or failed. */
  readonly requiredArtifacts?: ImageVerification['attestations'];
}

export function toReport(result: ArtifactVerification | ImageVerification, canonical?: string): VerifyReport {
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
    ...('decidedBy' in result
      ? {
          platforms: result.platforms,
          decidedBy: result.decidedBy,
          ...(result.index === undefined ? {} : { index: result.index }),
          requiredArtifacts: result.attestations,
        }
      : {}),
  };
}

function messageOf(result: ArtifactVerification | ImageVerification, canonical: string | undefined): string {
  const at = `${result.reference}@${result.artifact.digest}`.replace(/@(sha\d+:[0-9a-f]+)@\1$/, '@$1');
  const where = canonical === undefined ? at : `${at} (read as ${canonical})`;
  const policy = `trust policy "${result.policy.name}" (${result.policy.level})`;
  if (result.skipped)
    return `signature verification of ${where} skipped: ${policy} is configured to skip signature verification`;
  if (result.verified) {
    const by = 'decidedBy' in result ? decidedByPhrase(result.decidedBy) : undefined;
    // A manifest's own signature is what notation reports: the same words.
    if (by === undefined || ('decidedBy' in result && result.decidedBy[0]?.role === 'manifest'))
      return `successfully verified signature ${result.signature ?? ''} of ${where} with ${policy}`;
    return `successfully verified ${where} with ${policy}: decided by ${by}`;
  }
  const check = result.failedCheck === null ? '' : `${result.failedCheck} check failed: `;
  return `verification of ${where} failed under ${policy}: ${check}${result.error?.message ?? 'unknown error'}`;
}

/** One line a person can act on, plus one line per warning. */
export function humanReport(report: VerifyReport): string {
  const head = report.verified ? report.message : `${report.message} [${report.code ?? 'ERR_INTERNAL'}]`;
  return (
    [
      head,
      ...(report.requiredArtifacts ?? []).map(attestationLine),
      ...report.warnings.map((w) => `warning: ${w.message}`),
    ].join('\n') + '\n'
  );
}
