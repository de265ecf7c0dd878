import { PortcullisError, toPortcullisError } from '../errors/index.js';
import {
  type ArtifactTarget,
  type Descriptor,
  toSignatureManifest,
  parseManifest,
  type SignatureSource,
} from '../oci/index.js';
import {
  selectStatement,
  CHECKS,
  type CheckName,
  type TrustPolicy,
  type TrustPolicyStatement,
} from '../policy/index.js';
import { matchesDigest } from '../util/index.js';
import type { CertificateCache } from '../x509/index.js';
import type { VerificationPlugins } from './plugins.js';
import { verifySignature } from './signature.js';
import type { RevocationChecker, SignatureVerification, TrustStores, Warning } from './types.js';

export type { SignatureSource };

export interface ArtifactVerificationRequest {
  /** The reference as the user gave it (for messages). */
  readonly reference: string;
  /** `registry/repository`, the key for trust policy selection. */
  readonly repository: string;
  /**
   * The artifact's descriptor as the registry holds it, for a digest-pinned reference too (media type and size must
   * match the payload).
   */
  readonly artifact: ArtifactTarget;
  /** Key/value pairs the signed payload must carry (notation's --user-metadata). */
  readonly userMetadata?: Readonly<Record<string, string>>;
}

export interface ArtifactVerificationOptions {
  readonly policy: TrustPolicy;
  /**
   * The statement of `policy` that applies to `request.repository`, when the caller has chosen
   * it already (the executor's plan); otherwise it is selected here.
   */
  readonly statement?: TrustPolicyStatement;
  readonly trustStores: TrustStores;
  readonly source: SignatureSource;
  /** The verification time. */
  readonly at: Date;
  /** Failed signatures tolerated before giving up (notation's default is 100). */
  readonly maxSignatureAttempts?: number;
  readonly revocation?: RevocationChecker;
  /** Runs the verification plugins signatures name (none: such signatures fail, ERR_PLUGIN_REQUIRED). */
  readonly plugins?: VerificationPlugins;
  readonly pluginConfig?: Readonly<Record<string, string>>;
  readonly certificateCache?: CertificateCache;
  readonly envelopeMaxBytes?: number;
}

export interface ArtifactVerification {
  readonly verified: boolean;
  readonly reference: string;
  readonly artifact: ArtifactTarget;
  /** The statement in force and its level (absent only when none applies). */
  readonly policy: { readonly name: string; readonly level: string };
  /** True when the statement's level is skip (nothing was verified). */
  readonly skipped: boolean;
  /** Digest of the signature manifest that passed, or null. */
  readonly signature: string | null;
  readonly failedCheck: CheckName | null;
  readonly error: PortcullisError | null;
  readonly warnings: readonly Warning[];
  /** Every signature attempted, in order. */
  readonly signatures: readonly SignatureVerification[];
}

export const DEFAULT_MAX_SIGNATURE_ATTEMPTS = 100;

const SIGNATURE_LEVEL_FAILURES: ReadonlySet<string> = new Set([
  'ERR_SIGNATURE_MANIFEST_INVALID',
  'ERR_DIGEST_MISMATCH',
  'ERR_SIZE_LIMIT',
]);

function warningsOf(result: SignatureVerification): Warning[] {
  return result.checks
    .filter((c) => c.status === 'logged')
    .map((c) => ({
      check: c.check,
      message: `${c.check} was set to "log" and failed with error: ${c.error?.message ?? 'unknown error'}`,
    }));
}

// The most actionable failure among rejected signatures: the one that got furthest through the
// checks (closest to passing); the first such signature on a tie.
function mostRelevant(results: readonly SignatureVerification[]): SignatureVerification | undefined {
  let best: SignatureVerification | undefined;
  let bestRank = -1;
  for (const r of results) {
    const rank = r.failure === undefined ? -1 : CHECKS.indexOf(r.failure.check);
    if (rank > bestRank) {
      best = r;
      bestRank = rank;
    }
  }
  return best;
}

async function loadSignature(
  source: SignatureSource,
  descriptor: Descriptor,
): Promise<{ mediaType: string; bytes: Uint8Array }> {
  const manifest = toSignatureManifest(
    parseManifest(checked(await source.fetchManifest(descriptor), descriptor, 'signature manifest')),
  );
  return {
    mediaType: manifest.envelope.mediaType,
    bytes: checked(await source.fetchBlob(manifest.envelope), manifest.envelope, 'signature envelope'),
  };
}

/**
 * The bytes, when they are what the descriptor names. Sources promise this already (registries
 * and layouts check what they read); checked again here, where it costs a hash of a few KiB, so
 * that no source can hand the core content other than what was listed.
 */
function checked(bytes: Uint8Array, descriptor: Descriptor, what: string): Uint8Array {
  if (bytes.length !== descriptor.size || !matchesDigest(bytes, descriptor.digest)) {
    throw new PortcullisError(
      'ERR_DIGEST_MISMATCH',
      `the ${what} is not the content its descriptor names (${descriptor.digest}, ${descriptor.size} bytes; got ${bytes.length} bytes)`,
    );
  }
  return bytes;
}

/** The source's signature descriptors one at a time, a page read only when the previous is used up. */
async function* signaturesOf(source: SignatureSource, artifact: ArtifactTarget): AsyncGenerator<Descriptor> {
  if (source.signaturePages === undefined) {
    yield* await source.listSignatures(artifact);
    return;
  }
  for await (const page of source.signaturePages(artifact)) yield* page;
}

/**
 * Verifies an artifact (signing-and-verification-workflow.md, "OCI artifact verification"):
 * select the statement; skip ends it; otherwise try the signatures in order until one passes
 * (first good signature wins) or `maxSignatureAttempts` have failed.
 * Throws only for configuration errors (no applicable statement, missing trust store) and
 * source failures; a rejected artifact is a result, not an exception.
 */
export async function verifyArtifact(
  request: ArtifactVerificationRequest,
  options: ArtifactVerificationOptions,
): Promise<ArtifactVerification> {
  const statement: TrustPolicyStatement =
    options.statement ?? selectStatement(options.policy, request.repository, request.reference);
  const context = { reference: request.reference, digest: request.artifact.digest, policy: statement.name };
  const base = {
    reference: request.reference,
    artifact: request.artifact,
    policy: { name: statement.name, level: statement.level },
  };
  if (statement.level === 'skip') {
    return {
      ...base,
      verified: true,
      skipped: true,
      signature: null,
      failedCheck: null,
      error: null,
      warnings: [],
      signatures: [],
    };
  }

  const max = options.maxSignatureAttempts ?? DEFAULT_MAX_SIGNATURE_ATTEMPTS;
  if (!Number.isSafeInteger(max) || max <= 0) {
    throw new PortcullisError('ERR_INPUT_INVALID', `maxSignatureAttempts must be a positive integer, got ${max}`);
  }
  // The candidates are read as they are needed: a source that lists page by page is asked for
  // the next page only while no signature has passed and fewer than `max` have failed, so the
  // outcome is the one the whole list gives (the limit counts across pages, and is reported only
  // when a further candidate exists, as with the whole list).
  const candidates = signaturesOf(options.source, request.artifact);
  let next = await candidates.next();
  if (next.done === true) {
    const error = new PortcullisError(
      'ERR_NO_SIGNATURE',
      `no signature is associated with "${request.reference}", make sure the artifact was signed successfully`,
      { context },
    );
    return {
      ...base,
      verified: false,
      skipped: false,
      signature: null,
      failedCheck: null,
      error,
      warnings: [],
      signatures: [],
    };
  }

  const results: SignatureVerification[] = [];
  for (; next.done !== true; next = await candidates.next()) {
    const descriptor = next.value;
    if (results.length >= max) {
      await candidates.return(undefined);
      const error = new PortcullisError(
        'ERR_SIGNATURE_LIMIT',
        `signature evaluation stopped. The configured limit of ${max} signatures to verify per artifact exceeded`,
        { context },
      );
      return {
        ...base,
        verified: false,
        skipped: false,
        signature: null,
        failedCheck: null,
        error,
        warnings: [],
        signatures: results,
      };
    }
    let result: SignatureVerification;
    try {
      const { mediaType, bytes } = await loadSignature(options.source, descriptor);
      result = await verifySignature(
        {
          signature: descriptor.digest,
          envelopeMediaType: mediaType,
          envelope: bytes,
          artifact: request.artifact,
          ...(request.userMetadata === undefined ? {} : { userMetadata: request.userMetadata }),
        },
        {
          statement,
          trustStores: options.trustStores,
          at: options.at,
          ...(options.revocation === undefined ? {} : { revocation: options.revocation }),
          ...(options.plugins === undefined ? {} : { plugins: options.plugins }),
          ...(options.pluginConfig === undefined ? {} : { pluginConfig: options.pluginConfig }),
          ...(options.certificateCache === undefined ? {} : { certificateCache: options.certificateCache }),
          ...(options.envelopeMaxBytes === undefined ? {} : { envelopeMaxBytes: options.envelopeMaxBytes }),
        },
      );
    } catch (thrown) {
      const error = toPortcullisError(thrown, 'ERR_INTERNAL');
      if (error.code === 'ERR_TRUSTSTORE_NOT_FOUND') throw error.withContext(context);
      if (!SIGNATURE_LEVEL_FAILURES.has(error.code)) throw error.withContext(context);
      // A malformed, oversized or tampered signature manifest or envelope is that signature
      // failing integrity, not the whole run: junk pushed beside a good signature must not block it.
      const failed = error.withContext({ ...context, signature: descriptor.digest });
      result = {
        signature: descriptor.digest,
        passed: false,
        checks: CHECKS.map((check) =>
          check === 'integrity'
            ? { check, status: 'failed' as const, action: 'enforce' as const, error: failed }
            : { check, status: 'skipped' as const, action: statement.actions[check] },
        ),
        failure: { check: 'integrity', error: failed },
      };
    }
    results.push(result);
    if (result.passed) {
      await candidates.return(undefined);
      return {
        ...base,
        verified: true,
        skipped: false,
        signature: result.signature,
        failedCheck: null,
        error: null,
        warnings: warningsOf(result),
        signatures: results,
      };
    }
  }
  const worst = mostRelevant(results) as SignatureVerification;
  const failure = worst.failure as NonNullable<SignatureVerification['failure']>;
  return {
    ...base,
    verified: false,
    skipped: false,
    signature: null,
    failedCheck: failure.check,
    error: failure.error.withContext(context),
    warnings: warningsOf(worst),
    signatures: results,
  };
}
