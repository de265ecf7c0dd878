import { GUIDANCE, isErrorCode } from '../errors/index.js';
import type { ImageDecision, PolicyVerdict } from '../executor/index.js';
import type { TrustPolicyStatement } from '../policy/index.js';
import { coverage, formatResourceId, type PolicyDocument, type PolicySnapshot } from '../policyset/index.js';
import type { ArtifactVerification, SignatureVerification } from '../verify/index.js';

/**
 * `portcullis explain`: the webhook's decision of one image in one namespace, in full. The
 * decision is the executor's (asked with `explain`: the same walk, every check kept); this only
 * lays it beside the snapshot it was made from — which policies cover the namespace and why, the
 * statement each chose, the signatures found and every check of each — and says what would make
 * a rejecting policy admit the image. Pure: decision and snapshot in, an explanation out.
 */
export interface Explanation {
  readonly image: string;
  readonly namespace: string;
  readonly canonical?: string;
  readonly digest?: string;
  readonly decision: 'allowed' | 'denied';
  /** The one-line reason of a denial (the webhook's), or what the failure policy did. */
  readonly reason?: string;
  readonly warnings: readonly string[];
  readonly revision: number;
  readonly policies: readonly PolicyExplanation[];
}

export interface PolicyExplanation {
  readonly policy: string;
  readonly enforcementAction?: string;
  /** Whether the policy covers the namespace, and why. */
  readonly appliesToNamespace: boolean;
  readonly why: string;
  /** For a covering policy: whether it has a statement for the image's repository. */
  readonly appliesToImage?: boolean;
  readonly statement?: StatementSummary;
  readonly verdict?: {
    readonly verified: boolean;
    readonly skipped?: boolean;
    readonly failedCheck: string | null;
    readonly code: string | null;
    readonly message: string;
  };
  readonly signatures?: readonly SignatureExplanation[];
  /** Whose signatures decided (the manifest's, its index's, each platform manifest's), when verified. */
  readonly decidedBy?: readonly { readonly role: string; readonly digest: string; readonly platform?: string }[];
  /** The statement's required signed artifacts (attestations), each passed or not and why. */
  readonly requiredArtifacts?: readonly {
    readonly artifactType: string;
    readonly passed: boolean;
    readonly code: string | null;
    readonly reason: string;
  }[];
  /** What would make this policy admit the image (empty when it does). */
  readonly toPass: readonly string[];
}

export interface StatementSummary {
  readonly name: string;
  readonly registryScopes: readonly string[];
  readonly level: string;
  readonly trustStores: readonly string[];
  readonly trustedIdentities: readonly string[];
}

export interface SignatureExplanation {
  readonly digest: string;
  readonly passed: boolean;
  readonly signer?: string;
  readonly chain?: readonly { readonly subject: string; readonly sha256: string }[];
  readonly signingTime?: string;
  readonly timestamp?: string;
  readonly checks: readonly {
    readonly check: string;
    readonly status: string;
    readonly action: string;
    readonly code?: string;
    readonly message?: string;
    readonly detail?: string;
  }[];
}

function statementSummary(statement: TrustPolicyStatement): StatementSummary {
  return {
    name: statement.name,
    registryScopes: statement.registryScopes,
    level: statement.customized ? `${statement.level} (customized)` : statement.level,
    trustStores: statement.trustStores.map((s) => `${s.type}:${s.name}`),
    trustedIdentities: statement.trustedIdentities,
  };
}

function signatureExplanation(s: SignatureVerification): SignatureExplanation {
  const d = s.details;
  return {
    digest: s.signature,
    passed: s.passed,
    ...(d === undefined
      ? {}
      : {
          signer: d.signer,
          chain: d.certificateChain.map((c) => ({ subject: c.subject, sha256: c.sha256 })),
          ...(d.signingTime === undefined ? {} : { signingTime: d.signingTime.toISOString() }),
          ...(d.timestamp === undefined ? {} : { timestamp: d.timestamp.genTime.toISOString() }),
        }),
    checks: s.checks.map((c) => ({
      check: c.check,
      status: c.status,
      action: c.action,
      ...(c.error === undefined ? {} : { code: c.error.code, message: c.error.message }),
      ...(c.detail === undefined ? {} : { detail: c.detail }),
    })),
  };
}

/** Where a statement's trust store of a type comes from, in words (`ClusterTrustStore acme`). */
function storeSources(doc: PolicyDocument, statement: TrustPolicyStatement, type?: string): string[] {
  return statement.trustStores
    .filter((s) => type === undefined || s.type === type)
    .map((s) => {
      const source = doc.trustStores.source(s.type, s.name);
      return source === undefined ? `${s.type}:${s.name}` : `${formatResourceId(source)} (${s.type}:${s.name})`;
    });
}

/** What would make a rejecting verdict pass: specific to the failure when its detail tells, then the guidance. */
export function toPass(
  verdict: PolicyVerdict,
  doc: PolicyDocument | undefined,
  statement: TrustPolicyStatement | undefined,
  pinned: string | undefined,
): string[] {
  if (verdict.verified) return [];
  const out: string[] = [];
  const v: ArtifactVerification | undefined = verdict.verification;
  const rejected = v?.signatures.find((s) => !s.passed && s.details !== undefined) ?? v?.signatures[0];
  const details = rejected?.details;
  const code = verdict.code ?? rejected?.failure?.error.code ?? null;
  const subject = pinned ?? 'the image';
  switch (code) {
    case 'ERR_NO_SIGNATURE':
      out.push(
        `sign ${subject} (portcullis sign or notation sign) with a key whose certificate chain ends in ${doc !== undefined && statement !== undefined ? storeSources(doc, statement, 'ca').join(', ') || 'a trusted store' : 'a trusted store'}; the signature must be pushed to this registry as a referrer of the image`,
      );
      break;
    case 'ERR_CHAIN_UNTRUSTED': {
      const root = details?.certificateChain.at(-1);
      const stores = doc !== undefined && statement !== undefined ? storeSources(doc, statement).join(', ') : '';
      out.push(
        root === undefined
          ? `the signature's chain contains no certificate of the statement's trust stores (${stores}): add the signer's root CA to one of them, or sign with a key they trust`
          : `the signature's chain ends in "${root.subject}" (sha256 ${root.sha256}), which none of ${stores || "the statement's trust stores"} holds: add that certificate to one of them if this signer is to be trusted, or sign with a key they trust`,
      );
      break;
    }
    case 'ERR_IDENTITY_MISMATCH':
    case 'ERR_IDENTITY_NONE':
      out.push(
        details === undefined
          ? 'the signer is not among the statement\'s trustedIdentities: add it as "x509.subject: <its subject>", or sign with a trusted identity'
          : `the signer "${details.signer}" is not among trustedIdentities ${JSON.stringify(statement?.trustedIdentities ?? [])}: add "x509.subject: ${details.signer}" to statement ${JSON.stringify(verdict.statement ?? '')} if it is to be trusted, or sign with a trusted identity`,
      );
      break;
    case 'ERR_TIMESTAMP_MISSING':
      out.push(
        `the statement requires an authentic timestamp (its trust stores include tsa: ${doc !== undefined && statement !== undefined ? storeSources(doc, statement, 'tsa').join(', ') || 'none' : 'none'}), and the signature has none: sign again with a timestamp (portcullis sign --timestamp-url URL --timestamp-root-cert FILE), or set authenticTimestamp to log in the statement's override`,
      );
      break;
    case 'ERR_SIGNATURE_EXPIRED':
    case 'ERR_CERT_NOT_VALID_AT_TIME':
      out.push(
        `the signature${details?.expiry === undefined ? '' : ` expired at ${details.expiry.toISOString()}`} or its certificate is not valid now: sign the image again with a valid certificate (a timestamped signature stays valid after the certificate expires)`,
      );
      break;
    case 'ERR_CERT_REVOKED':
      out.push('a certificate of the signature is revoked: sign again with a key whose certificate is not revoked');
      break;
    default:
      break;
  }
  if (code !== null && isErrorCode(code)) for (const line of GUIDANCE[code].check) out.push(line);
  else if (code === null && verdict.message !== '') out.push(verdict.message);
  return out;
}

function findDocument(snapshot: PolicySnapshot, policy: string): PolicyDocument | undefined {
  return snapshot.documents.find((d) => formatResourceId(d.id) === policy);
}

/** The explanation of one decision, made under `snapshot` for `namespace`. */
export function explain(snapshot: PolicySnapshot, namespace: string, decision: ImageDecision): Explanation {
  const verdicts = new Map(decision.verdicts.map((v) => [v.policy, v]));
  const policies: PolicyExplanation[] = [];
  for (const c of coverage(snapshot, namespace)) {
    const doc = c.kind === 'Invalid' ? undefined : findDocument(snapshot, c.policy);
    const v = c.applies ? verdicts.get(c.policy) : undefined;
    const base = {
      policy: c.policy,
      ...(doc === undefined ? {} : { enforcementAction: doc.enforcementAction }),
      appliesToNamespace: c.applies,
      why: c.invalid === undefined ? c.why : `${c.why}: ${c.invalid.reason} [${c.invalid.code}]`,
    };
    if (!c.applies) {
      policies.push({ ...base, toPass: [] });
      continue;
    }
    if (v === undefined) {
      // A covering document with no verdict has no statement for the repository (or the image was not read).
      policies.push({ ...base, appliesToImage: false, toPass: [] });
      continue;
    }
    const statement = doc?.policy.statements.find((s) => s.name === v.statement);
    policies.push({
      ...base,
      ...(v.enforcementAction === undefined ? {} : { enforcementAction: v.enforcementAction }),
      appliesToImage: true,
      ...(statement === undefined ? {} : { statement: statementSummary(statement) }),
      verdict: {
        verified: v.verified,
        ...(v.skipped === true ? { skipped: true } : {}),
        failedCheck: v.failedCheck,
        code: v.code,
        message: v.message,
      },
      ...(v.verification === undefined ? {} : { signatures: v.verification.signatures.map(signatureExplanation) }),
      ...(v.decidedBy === undefined || v.decidedBy.length === 0
        ? {}
        : {
            decidedBy: v.decidedBy.map((d) => ({
              role: d.role,
              digest: d.digest,
              ...(d.platform === undefined ? {} : { platform: d.platform }),
            })),
          }),
      ...(v.requiredArtifacts === undefined || v.requiredArtifacts.length === 0
        ? {}
        : {
            requiredArtifacts: v.requiredArtifacts.map((a) => ({
              artifactType: a.artifactType,
              passed: a.passed,
              code: a.code,
              reason: a.reason,
            })),
          }),
      toPass: toPass(v, doc, statement, decision.pinned),
    });
  }
  return {
    image: decision.image,
    namespace,
    ...(decision.canonical === undefined ? {} : { canonical: decision.canonical }),
    ...(decision.digest === undefined ? {} : { digest: decision.digest }),
    decision: decision.allowed ? 'allowed' : 'denied',
    ...(decision.reason === undefined
      ? decision.error === undefined
        ? {}
        : {
            reason: `${decision.error.message} [${decision.error.code}]; the failure policy ${decision.error.failurePolicyApplied === 'fail' ? 'denied' : 'allowed'} it`,
          }
      : { reason: decision.reason }),
    warnings: decision.warnings,
    revision: snapshot.revision,
    policies,
  };
}
