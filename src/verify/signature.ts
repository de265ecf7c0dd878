import { PortcullisError, toPortcullisError } from '../errors/index.js';
import { parseEnvelope, parsePayload, type VerifiedEnvelope } from '../envelope/index.js';
import { sameContent, type ArtifactTarget } from '../oci/index.js';
import { CHECKS, type CheckName, type StatementCore } from '../policy/index.js';
import { type CertificateCache, validateCertificateChain } from '../x509/index.js';
import { checkAuthenticity } from './checks/authenticity.js';
import {
  checkAuthenticTimestamp,
  checkTimestampRevocation,
  type TimestampEvidence,
} from './checks/authentic-timestamp.js';
import { checkExpiry } from './checks/expiry.js';
import { checkRevocation } from './checks/revocation.js';
import { runPlugin } from './plugin-step.js';
import { preparePlugin, VERIFIER_CAPABILITY, type PreparedPlugin, type VerificationPlugins } from './plugins.js';
import type { CheckResult, RevocationChecker, SignatureDetails, SignatureVerification, TrustStores } from './types.js';

export interface SignatureInput {
  /** Digest of the signature manifest (for reporting). */
  readonly signature: string;
  readonly envelopeMediaType: string;
  readonly envelope: Uint8Array;
  /** The artifact the signature must be about (resolved from the reference, never from the signature). */
  readonly artifact: ArtifactTarget;
  /** Key/value pairs that must appear, with equal values, in the signed payload's annotations. */
  readonly userMetadata?: Readonly<Record<string, string>>;
}

export interface SignatureVerificationOptions {
  /** An OCI or a blob trust policy statement. */
  readonly statement: StatementCore;
  readonly trustStores: TrustStores;
  /** The verification time. The core never reads a clock. */
  readonly at: Date;
  readonly revocation?: RevocationChecker;
  /** Runs the verification plugin a signature names; without it such a signature fails (ERR_PLUGIN_REQUIRED). */
  readonly plugins?: VerificationPlugins;
  /** `pluginConfig` of every plugin request (notation's `--plugin-config`). */
  readonly pluginConfig?: Readonly<Record<string, string>>;
  readonly certificateCache?: CertificateCache;
  readonly envelopeMaxBytes?: number;
}

/** Integrity: parse, primitive signature, chain shape and requirements, critical attributes, payload. */
function checkIntegrity(input: SignatureInput, options: SignatureVerificationOptions): VerifiedEnvelope {
  const envelope = parseEnvelope(input.envelopeMediaType, input.envelope, {
    ...(options.certificateCache === undefined ? {} : { certificateCache: options.certificateCache }),
    ...(options.envelopeMaxBytes === undefined ? {} : { maxBytes: options.envelopeMaxBytes }),
  });
  validateCertificateChain(envelope.unsigned.certificateChain, 'codeSigning', options.certificateCache);
  // The spec requires failing on critical attributes nobody processes (notation-go does not; see
  // docs/compatibility.md). A signature naming a verification plugin hands them to the plugin,
  // which must process them all (plugin-step.ts).
  const unknown = envelope.signed.extendedAttributes.filter((a) => a.critical).map((a) => a.key);
  if (unknown.length > 0 && envelope.signed.verificationPlugin === undefined) {
    throw new PortcullisError(
      'ERR_ENVELOPE_CRITICAL_UNKNOWN',
      `signature marks extended attribute(s) ${unknown.map((k) => `"${k}"`).join(', ')} critical, and Portcullis cannot process them`,
    );
  }
  const { targetArtifact } = parsePayload(envelope.payload);
  if (!sameContent(targetArtifact, input.artifact)) {
    throw new PortcullisError(
      'ERR_PAYLOAD_MISMATCH',
      `content descriptor mismatch: the signature covers ${targetArtifact.mediaType} ${targetArtifact.digest} (${targetArtifact.size} bytes), not ${input.artifact.mediaType} ${input.artifact.digest} (${input.artifact.size} bytes)`,
    );
  }
  for (const [key, value] of Object.entries(input.userMetadata ?? {})) {
    if (targetArtifact.annotations?.[key] !== value) {
      throw new PortcullisError(
        'ERR_METADATA_MISMATCH',
        `unable to find specified metadata in the signature: "${key}" = "${value}"`,
      );
    }
  }
  return envelope;
}

function detailsOf(
  envelope: VerifiedEnvelope,
  timestamp: TimestampEvidence | undefined,
  plugin: PreparedPlugin | undefined,
): SignatureDetails {
  const s = envelope.signed;
  return {
    envelopeMediaType: envelope.mediaType,
    signingScheme: s.signingScheme,
    algorithm: envelope.algorithm,
    ...(s.signingTime === undefined ? {} : { signingTime: s.signingTime }),
    ...(s.authenticSigningTime === undefined ? {} : { authenticSigningTime: s.authenticSigningTime }),
    ...(s.expiry === undefined ? {} : { expiry: s.expiry }),
    signer: envelope.unsigned.certificateChain[0]?.subject ?? '',
    certificateChain: envelope.unsigned.certificateChain.map((c) => ({
      subject: c.subject,
      sha256: c.sha256,
      notAfter: c.notAfter,
    })),
    ...(timestamp === undefined ? {} : { timestamp }),
    ...(plugin === undefined
      ? {}
      : { plugin: { name: plugin.name, version: plugin.version, capabilities: plugin.capabilities } }),
  };
}

/**
 * Verifies one signature envelope against one trust policy statement (the per-signature steps
 * of signing-and-verification-workflow.md), in notation's order: integrity, authenticity,
 * expiry, authentic timestamp, revocation. A failure under `enforce` rejects the signature and
 * stops; under `log` it is recorded and verification goes on. Results are reported in CHECKS order.
 */
export async function verifySignature(
  input: SignatureInput,
  options: SignatureVerificationOptions,
): Promise<SignatureVerification> {
  const { statement, at } = options;
  const results = new Map<CheckName, CheckResult>();
  let failure: SignatureVerification['failure'];
  let envelope: VerifiedEnvelope | undefined;
  let timestamp: TimestampEvidence | undefined;
  let plugin: PreparedPlugin | undefined;
  let pluginUnavailable: PortcullisError | undefined;
  let revocationDetail: string | undefined;
  const has = (capability: string): boolean => plugin?.capabilities.includes(capability as never) === true;

  // `fatal`: the failure rejects the signature whatever the check's action (a plugin that cannot
  // answer leaves the signature unverified, as notation's "verification inconclusive").
  const record = (check: CheckName, error: PortcullisError | undefined, fatal = false): boolean => {
    const action = statement.actions[check];
    if (error === undefined) {
      results.set(check, { check, status: 'passed', action });
      return true;
    }
    const withContext = error.withContext({ signature: input.signature, policy: statement.name });
    if (action === 'enforce' || fatal) {
      results.set(check, { check, status: 'failed', action, error: withContext });
      failure = { check, error: withContext };
      return false;
    }
    results.set(check, { check, status: 'logged', action, error: withContext });
    return true;
  };

  const steps: readonly [CheckName, () => Promise<PortcullisError | undefined> | PortcullisError | undefined][] = [
    [
      'integrity',
      async () => {
        try {
          envelope = checkIntegrity(input, options);
          // The plugin a signature names must be installed, recent enough and able to verify;
          // otherwise the signature fails here, at every level (plugin-extensibility.md step 1).
          if (envelope.signed.verificationPlugin !== undefined) {
            try {
              plugin = await preparePlugin(envelope, options.plugins, options.pluginConfig ?? {});
            } catch (error) {
              // A plugin that gives no answer here was asked before any trust check: a stranger's
              // signature naming it would otherwise turn a denial into "no verdict" (the failure
              // policy's). So it counts only if the native checks below pass (then it is fatal).
              const e = toPortcullisError(error, 'ERR_ENVELOPE_MALFORMED');
              if (e.code !== 'ERR_PLUGIN_UNAVAILABLE') return e;
              pluginUnavailable = e;
            }
          }
          return undefined;
        } catch (error) {
          return toPortcullisError(error, 'ERR_ENVELOPE_MALFORMED');
        }
      },
    ],
    [
      'authenticity',
      () =>
        checkAuthenticity(envelope as VerifiedEnvelope, statement, options.trustStores, {
          // A plugin that gave no answer may be the one meant to check the identities the native
          // check cannot read (non-x509 entries); the chain must still be trusted here.
          identityByPlugin:
            has(VERIFIER_CAPABILITY.trustedIdentity) ||
            (pluginUnavailable !== undefined && statement.trustedIdentities.length > statement.x509Identities.length),
        }),
    ],
    ['expiry', () => checkExpiry(envelope as VerifiedEnvelope, at)],
    [
      'authenticTimestamp',
      async () => {
        const outcome = checkAuthenticTimestamp(
          envelope as VerifiedEnvelope,
          statement,
          options.trustStores,
          at,
          options.certificateCache,
        );
        timestamp = outcome.timestamp;
        // The TSA chain is revocation-checked as part of this check (notation-go does the same).
        if (outcome.error === undefined && outcome.tsaChain !== undefined && options.revocation !== undefined) {
          return checkTimestampRevocation(outcome.tsaChain, options.revocation, at);
        }
        return outcome.error;
      },
    ],
    [
      'revocation',
      async () => {
        if (options.revocation === undefined) return undefined;
        const outcome = await checkRevocation(envelope as VerifiedEnvelope, options.revocation, at);
        revocationDetail = outcome.detail;
        return outcome.error;
      },
    ],
  ];

  let rejected = false;
  for (const [check, run] of steps) {
    const action = statement.actions[check];
    // Integrity is never skipped; revocation without a checker cannot be evaluated and is reported
    // skipped; a plugin with REVOCATION_CHECK answers revocation instead of the checker.
    if (
      (action === 'skip' && check !== 'integrity') ||
      (check === 'revocation' && (options.revocation === undefined || has(VERIFIER_CAPABILITY.revocationCheck)))
    ) {
      results.set(check, { check, status: 'skipped', action });
      continue;
    }
    let error: PortcullisError | undefined;
    try {
      error = await run();
    } catch (thrown) {
      // Configuration problems (a store the policy names does not exist) are not a verdict on the signature.
      if (thrown instanceof PortcullisError && thrown.code === 'ERR_TRUSTSTORE_NOT_FOUND') throw thrown;
      error = toPortcullisError(thrown, 'ERR_INTERNAL');
    }
    if (!record(check, error)) {
      rejected = true;
      break;
    }
  }
  if (!rejected && pluginUnavailable !== undefined) rejected = !record('integrity', pluginUnavailable, true);
  // The plugin runs last, for its capabilities (notation-go's order): a signature the native checks
  // already rejected never costs a plugin process.
  if (!rejected && plugin !== undefined && envelope !== undefined) {
    for (const outcome of await runPlugin(plugin, envelope, statement, options.pluginConfig ?? {})) {
      const earlier = results.get(outcome.check);
      // A failure already logged for the check (say, an untrusted chain under audit) stays on record.
      if (earlier?.status === 'logged') {
        if (outcome.error === undefined) continue;
        const joined = new PortcullisError(
          outcome.error.code,
          `${earlier.error?.message ?? ''}; ${outcome.error.message}`,
        );
        if (!record(outcome.check, joined, outcome.fatal)) break;
        continue;
      }
      if (!record(outcome.check, outcome.error, outcome.fatal)) break;
    }
  }

  const checks = CHECKS.map((check): CheckResult => {
    const result = results.get(check) ?? { check, status: 'skipped' as const, action: statement.actions[check] };
    return check === 'revocation' && revocationDetail !== undefined && result.status !== 'skipped'
      ? { ...result, detail: revocationDetail }
      : result;
  });
  return {
    signature: input.signature,
    passed: failure === undefined,
    checks,
    ...(failure === undefined ? {} : { failure }),
    ...(envelope === undefined ? {} : { details: detailsOf(envelope, timestamp, plugin) }),
  };
}
