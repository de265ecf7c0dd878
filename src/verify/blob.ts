import type { PortcullisError } from '../errors/index.js';
import { parseEnvelope, parsePayload } from '../envelope/index.js';
import { selectBlobStatement, type BlobTrustPolicy, type BlobTrustPolicyStatement } from '../policy/index.js';
import type { DigestAlgorithm } from '../util/index.js';
import type { CertificateCache } from '../x509/index.js';
import { HASH_OF } from '../x509/index.js';
import type { VerificationPlugins } from './plugins.js';
import { verifySignature } from './signature.js';
import type { CheckName } from '../policy/index.js';
import type { RevocationChecker, SignatureVerification, TrustStores, Warning } from './types.js';

/**
 * Detached blob signatures (signing-and-verification-workflow.md, "Arbitrary blob verification
 * workflow"; notation `blob verify`): the statement of trustpolicy.blob.json named by the caller,
 * else its globalPolicy one; `skip` ends there; otherwise the envelope is verified like any
 * Notary signature, against the blob's descriptor: its size, its digest computed with the
 * algorithm the signing certificate's key implies (RSA-3072 → sha384, …), and — only when the
 * caller names one — its media type; then the user metadata. The core reads no file: the caller
 * hashes the blob when asked.
 */

export interface BlobInput {
  readonly size: number;
  /** `<algorithm>:<hex>` of the blob's bytes (the caller streams the file). */
  digest(algorithm: DigestAlgorithm): Promise<string>;
}

export interface BlobVerificationRequest {
  readonly signatureMediaType: string;
  readonly envelope: Uint8Array;
  readonly blob: BlobInput;
  /** The media type the signature must give the blob (`--media-type`); unset: not checked. */
  readonly mediaType?: string;
  readonly userMetadata?: Readonly<Record<string, string>>;
  /** For messages (the signature file's path). */
  readonly signature?: string;
}

export interface BlobVerificationOptions {
  readonly policy: BlobTrustPolicy;
  /** `--policy-name`; unset: the globalPolicy statement. */
  readonly policyName?: string;
  readonly trustStores: TrustStores;
  readonly at: Date;
  readonly revocation?: RevocationChecker;
  readonly plugins?: VerificationPlugins;
  readonly pluginConfig?: Readonly<Record<string, string>>;
  readonly certificateCache?: CertificateCache;
}

export interface BlobVerification {
  readonly verified: boolean;
  readonly skipped: boolean;
  readonly policy: { readonly name: string; readonly level: string };
  /** The descriptor the signature was checked against (absent when skipped or unparsable). */
  readonly blob?: { readonly mediaType: string; readonly digest: string; readonly size: number };
  readonly failedCheck: CheckName | null;
  readonly error: PortcullisError | null;
  readonly warnings: readonly Warning[];
  /** The signature's result (absent when skipped). */
  readonly result?: SignatureVerification;
  /** The signed payload's user metadata (annotations). */
  readonly userMetadata?: Readonly<Record<string, string>>;
}

export async function verifyBlob(
  request: BlobVerificationRequest,
  options: BlobVerificationOptions,
): Promise<BlobVerification> {
  const statement: BlobTrustPolicyStatement = selectBlobStatement(options.policy, options.policyName);
  const policy = { name: statement.name, level: statement.level };
  if (statement.level === 'skip') {
    return { verified: true, skipped: true, policy, failedCheck: null, error: null, warnings: [] };
  }
  // The digest algorithm comes from the signing key, so the envelope is read first.
  let blob = { mediaType: request.mediaType ?? 'application/octet-stream', digest: 'sha256:', size: request.blob.size };
  let userMetadata: Readonly<Record<string, string>> | undefined;
  let parsed: { algorithm: DigestAlgorithm; mediaType: string } | undefined;
  try {
    const envelope = parseEnvelope(request.signatureMediaType, request.envelope);
    const target = parsePayload(envelope.payload).targetArtifact;
    userMetadata = target.annotations;
    parsed = { algorithm: HASH_OF[envelope.algorithm], mediaType: target.mediaType };
  } catch {
    // An envelope that cannot be read fails integrity in verifySignature, whatever it is compared with.
  }
  if (parsed !== undefined) {
    blob = {
      mediaType: request.mediaType ?? parsed.mediaType,
      digest: await request.blob.digest(parsed.algorithm),
      size: request.blob.size,
    };
  }
  const result = await verifySignature(
    {
      signature: request.signature ?? 'signature',
      envelopeMediaType: request.signatureMediaType,
      envelope: request.envelope,
      artifact: blob,
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
    },
  );
  const warnings = result.checks
    .filter((c) => c.status === 'logged')
    .map((c) => ({
      check: c.check,
      message: `${c.check} was set to "log" and failed with error: ${c.error?.message ?? 'unknown error'}`,
    }));
  return {
    verified: result.passed,
    skipped: false,
    policy,
    blob,
    failedCheck: result.failure?.check ?? null,
    error: result.failure?.error ?? null,
    warnings,
    result,
    ...(userMetadata === undefined ? {} : { userMetadata }),
  };
}
