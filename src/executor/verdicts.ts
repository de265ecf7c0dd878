import type { PortcullisError } from '../errors/index.js';
import { formatResourceId, type InvalidResource, type PolicyDocument } from '../policyset/index.js';
import type { ArtifactVerification, DecidingSignature, ImageVerification } from '../verify/index.js';
import type { FailurePolicy, ImageDecision, PolicyVerdict } from './types.js';

/**
 * The words of a verdict. Each verdict names the policy (`TrustPolicy team-a/prod`), the
 * statement, the failed check, the cause and its stable code, so the HTTP side can render a
 * denial line or a warning a person can act on without the webhook's log.
 */

/** Registry, plugin and deadline failures: no verdict could be reached, the failure policy decides. */
const UNDECIDED_CODES: ReadonlySet<string> = new Set([
  'ERR_REGISTRY_UNREACHABLE',
  'ERR_REGISTRY_TLS',
  'ERR_REGISTRY_TIMEOUT',
  'ERR_REGISTRY_RATE_LIMITED',
  'ERR_REGISTRY_UNAVAILABLE',
  'ERR_DEADLINE_EXCEEDED',
  'ERR_INTERNAL',
  'ERR_CREDENTIAL_HELPER',
  // A verification plugin that timed out, crashed or could not be run (not one that answered).
  'ERR_PLUGIN_UNAVAILABLE',
]);

/**
 * Whether an error means "could not decide" (registry unreachable, timeout, rate limit, 5xx,
 * deadline) rather than a definitive answer about the image (not found, access refused for this
 * identity, malformed registry answer), which is a rejecting verdict instead.
 */
export function isUndecided(error: PortcullisError): boolean {
  return UNDECIDED_CODES.has(error.code);
}

/**
 * Throws the error of a signature whose verification plugin timed out, crashed or could not be
 * run (ERR_PLUGIN_UNAVAILABLE), when no signature verified: another might have passed, had the
 * plugin answered, so there is no verdict — the failure policy decides, and nothing is cached.
 */
function throwIfPluginUnavailable(result: ArtifactVerification | ImageVerification): void {
  if (result.verified) return;
  const parts: readonly ArtifactVerification[] = 'parts' in result ? [result, ...result.parts] : [result];
  for (const part of parts) {
    for (const s of part.signatures) {
      if (s.failure?.error.code === 'ERR_PLUGIN_UNAVAILABLE') throw s.failure.error;
    }
  }
}

export function policyName(doc: PolicyDocument): string {
  return formatResourceId(doc.id);
}

/** "signature S of the image index I (tag v1)", "the signatures of all 3 platform manifests"; undefined: its own. */
function decidedByWords(decidedBy: readonly DecidingSignature[]): string | undefined {
  const first = decidedBy[0];
  if (first === undefined || first.role === 'manifest') return undefined;
  if (first.role === 'index') {
    return `signature ${first.signature} of the image index ${first.digest}${first.tag === undefined ? '' : ` (tag ${first.tag}, which lists this digest)`}`;
  }
  return `the signatures of all ${decidedBy.length} platform manifests (${decidedBy.map((d) => d.platform ?? d.digest).join(', ')})`;
}

/**
 * The verdict of a document from verifyImage's (or verifyArtifact's) result; none — it throws
 * ERR_PLUGIN_UNAVAILABLE — when a verification plugin gave no answer and nothing verified.
 */
export function verdictFromVerification(
  doc: PolicyDocument,
  result: ArtifactVerification | ImageVerification,
): PolicyVerdict {
  throwIfPluginUnavailable(result);
  const statement = result.policy.name;
  const warnings = result.warnings.map(
    (w) => `${policyName(doc)} statement ${JSON.stringify(statement)}: ${w.message}`,
  );
  const image = 'decidedBy' in result ? result : undefined;
  const extra = {
    ...(image === undefined || image.decidedBy.length === 0 ? {} : { decidedBy: image.decidedBy }),
    ...(image === undefined || image.attestations.length === 0 ? {} : { requiredArtifacts: image.attestations }),
  };
  if (result.verified) {
    const by = image === undefined ? undefined : decidedByWords(image.decidedBy);
    const attested =
      image === undefined || image.attestations.length === 0
        ? ''
        : `; required artifacts signed: ${image.attestations.map((a) => `${a.artifactType} (${a.artifact ?? ''})`).join(', ')}`;
    const message = result.skipped
      ? `statement level is "skip": signatures are not verified`
      : `${by ?? `signature ${result.signature ?? '(unknown)'}`} verified at level "${result.policy.level}"${attested}`;
    return {
      ...extra,
      policy: policyName(doc),
      enforcementAction: doc.enforcementAction,
      verified: true,
      statement,
      ...(result.skipped ? { skipped: true as const } : {}),
      failedCheck: null,
      code: null,
      message,
      warnings,
    };
  }
  return {
    ...extra,
    policy: policyName(doc),
    enforcementAction: doc.enforcementAction,
    verified: false,
    statement,
    failedCheck: result.failedCheck,
    code: result.error?.code ?? 'ERR_NO_SIGNATURE',
    message: result.error?.message ?? 'no signature passed verification',
    warnings,
  };
}

/** Which credentials a cache identity stands for, in words (never the secret). */
export function describeIdentity(identity: string): string {
  if (identity === 'anonymous')
    return 'none (anonymous): no pull secret of the pod and no default credential has an entry for this registry';
  if (identity.startsWith('pod:')) return `the pod's pull secret ${identity.slice(4)}`;
  return 'the configured default credentials';
}

/** A document that rejects the image because the registry gave a definitive error (not found, access refused). */
export function verdictFromError(
  doc: PolicyDocument,
  statement: string,
  error: PortcullisError,
  credentials?: string,
): PolicyVerdict {
  const access =
    error.code === 'ERR_REGISTRY_UNAUTHORIZED' ||
    error.code === 'ERR_REGISTRY_DENIED' ||
    error.code === 'ERR_REGISTRY_NOT_FOUND';
  const used =
    access && credentials !== undefined ? ` (registry credentials used: ${describeIdentity(credentials)})` : '';
  return notVerified(doc, statement, error.code, `the image could not be verified: ${error.message}${used}`);
}

/** A verdict that no signature check decided (registry error, no verdict in time). */
function notVerified(doc: PolicyDocument, statement: string, code: string, message: string): PolicyVerdict {
  return {
    policy: policyName(doc),
    enforcementAction: doc.enforcementAction,
    verified: false,
    statement,
    failedCheck: null,
    code,
    message,
    warnings: [],
  };
}

/**
 * A warn or dryrun document that could not be evaluated (registry down, deadline): recorded as
 * not verified, never denying. Deny documents in that state go to the failure policy instead.
 */
export function undecidedVerdict(doc: PolicyDocument, statement: string, error: PortcullisError): PolicyVerdict {
  return notVerified(doc, statement, error.code, `no verdict could be reached: ${error.message}`);
}

/** An invalid policy that covers the namespace: it rejects every image, with its reason. */
export function verdictFromInvalid(entry: InvalidResource): PolicyVerdict {
  const where = entry.source === undefined ? '' : ` (${entry.source})`;
  return {
    policy: formatResourceId(entry.id),
    enforcementAction: entry.enforcementAction ?? 'deny',
    verified: false,
    failedCheck: null,
    code: entry.code,
    message: `the policy is invalid and blocks this namespace until it is fixed: ${entry.reason}${where}`,
    warnings: [],
  };
}

/** `TrustPolicy a/b statement "s": authenticity failed — … [CODE]`, for `reason`. */
export function describeVerdict(v: PolicyVerdict): string {
  const statement = v.statement === undefined ? '' : ` statement ${JSON.stringify(v.statement)}`;
  const check = v.failedCheck === null ? 'verification failed' : `${v.failedCheck} failed`;
  return `${v.policy}${statement}: ${check} — ${v.message}${v.code === null ? '' : ` [${v.code}]`}`;
}

/**
 * An image no verdict could be reached for (a registry down, the deadline, a bug): the failure
 * policy decides, and the decision says so. The one place an undecided decision is made.
 */
export function undecidedDecision(
  base: Omit<ImageDecision, 'allowed'>,
  error: { readonly code: string; readonly message: string },
  policy: FailurePolicy,
): ImageDecision {
  return {
    ...base,
    allowed: policy === 'ignore',
    error: { code: error.code, message: error.message, failurePolicyApplied: policy },
    reason: `could not be verified: ${error.message} [${error.code}]; the failure policy "${policy}" ${policy === 'fail' ? 'denied' : 'allowed'} the image`,
  };
}
