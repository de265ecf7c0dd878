import { PortcullisError } from '../errors/index.js';
import type { ArtifactTarget, Descriptor } from '../oci/index.js';
import {
  DEFAULT_IMAGE_REQUIREMENTS,
  selectStatement,
  type ImageRequirements,
  type PlatformsMode,
} from '../policy/index.js';
import { matchesDigest } from '../util/index.js';
import {
  verifyArtifact,
  type ArtifactVerification,
  type ArtifactVerificationOptions,
  type ArtifactVerificationRequest,
  type SignatureSource,
} from './artifact.js';
import { checkAttestations, type AttestationResult, type ReferrerLister } from './attestations.js';
import {
  MAX_PLATFORM_MANIFESTS,
  isIndexMediaType,
  listedIn,
  parseImageIndex,
  type PlatformEntry,
} from './image-index.js';
import type { Warning } from './types.js';

/**
 * An image as a runtime pulls it: one manifest, or an index of platform manifests, with
 * Portcullis' requirements of the statement (`platforms`, required signed artifacts). Built on
 * `verifyArtifact`, which judges one digest by its own signatures; this file decides whose
 * signatures count. docs/policies.md ("Multi-platform images") is the user-facing account.
 */

export interface ImageVerificationRequest extends ArtifactVerificationRequest {
  readonly requirements?: ImageRequirements;
  /**
   * Set when the reference names a tag and a digest (`repo:tag@sha256:…`): the tag, resolved
   * only when needed (to `undefined` when the registry has no such tag). When the digest is a
   * platform manifest the tag's index lists, the index's signature can admit it.
   */
  readonly tag?: { readonly name: string; resolve(): Promise<ArtifactTarget | undefined> };
}

export interface ImageVerificationOptions extends ArtifactVerificationOptions {
  /** Signatures, manifests, blobs; referrers by artifact type when artifacts are required. */
  readonly source: SignatureSource & Partial<ReferrerLister>;
  readonly maxPlatformManifests?: number;
}

/** Whose signature decided: the manifest itself, the index (covering it by digest), or each platform manifest. */
export interface DecidingSignature {
  readonly role: 'manifest' | 'index' | 'platform';
  /** The manifest or index the signature signs. */
  readonly digest: string;
  /** `linux/amd64` for a platform manifest whose index entry names it. */
  readonly platform?: string;
  /** The signature manifest that passed. */
  readonly signature: string;
  /** The tag through which the index was found (`repo:tag@platform-digest`). */
  readonly tag?: string;
}

export interface PlatformResult {
  readonly digest: string;
  readonly platform?: string;
  /** null: not checked (an earlier platform manifest failed). */
  readonly verified: boolean | null;
  readonly signature?: string | null;
  readonly code?: string;
  readonly message?: string;
}

/** What was learnt about the index of a multi-platform image. */
export interface IndexReport {
  readonly digest: string;
  /** The tag that named it (`repo:tag@platform-digest`). */
  readonly tag?: string;
  /** Whether the tag's index lists the digest the reference names (tag route only). */
  readonly listed?: boolean;
  /** The index's own signatures: null = not checked. */
  readonly verified: boolean | null;
  readonly error?: { readonly code: string; readonly message: string };
  /** The platform manifests checked by their own signatures (empty when not checked). */
  readonly platforms: readonly PlatformResult[];
}

export interface ImageVerification extends ArtifactVerification {
  readonly platforms: PlatformsMode;
  /** Empty when not verified, or skipped. */
  readonly decidedBy: readonly DecidingSignature[];
  readonly index?: IndexReport;
  /** One per required artifact, in the order required (empty when none is required or the image failed). */
  readonly attestations: readonly AttestationResult[];
  /** Every artifact verification that took part (index, platforms, attestations): for cache lifetimes, diagnostics. */
  readonly parts: readonly ArtifactVerification[];
  /** When a required artifact's `maxAge` runs out (the verdict must not outlive it). */
  readonly validUntil?: Date;
}

interface Decided {
  readonly result: ArtifactVerification;
  readonly decidedBy: readonly DecidingSignature[];
  readonly index?: IndexReport;
  readonly parts: readonly ArtifactVerification[];
  /** Where required artifacts are looked for: the digest the reference names, and an index that covers it. */
  readonly subjects: readonly Descriptor[];
}

/**
 * Verifies an image under its statement and Portcullis' requirements:
 * - an index (OCI image index, Docker manifest list) under `platforms`: its own signature
 *   (`index`), every platform manifest's own (`all`), or either (the default);
 * - a digest named with a tag (`repo:tag@digest`) that is a platform manifest the tag's index
 *   lists: the index's signature counts (unless `all`), and so do the manifest's own;
 * - anything else, a bare digest included: its own signatures.
 * Then every required artifact (attestations.ts). Throws as `verifyArtifact` does.
 */
export async function verifyImage(
  request: ImageVerificationRequest,
  options: ImageVerificationOptions,
): Promise<ImageVerification> {
  const statement = options.statement ?? selectStatement(options.policy, request.repository, request.reference);
  const opts: ImageVerificationOptions = { ...options, statement };
  const requirements = request.requirements ?? DEFAULT_IMAGE_REQUIREMENTS;
  const mode = requirements.platforms;
  let decided: Decided;
  if (statement.level === 'skip') decided = own(await verifyArtifact(request, opts), request.artifact);
  else if (isIndexMediaType(request.artifact.mediaType)) decided = await byIndex(request, opts, mode);
  else if (request.tag !== undefined && mode !== 'all') decided = await byTagIndex(request, opts, request.tag);
  else decided = own(await verifyArtifact(request, opts), request.artifact);

  const base = {
    platforms: mode,
    decidedBy: decided.decidedBy,
    ...(decided.index === undefined ? {} : { index: decided.index }),
  };
  const { result } = decided;
  if (!result.verified || result.skipped || requirements.requiredArtifacts.length === 0) {
    return { ...result, ...base, attestations: [], parts: decided.parts };
  }
  const attested = await checkAttestations(
    { reference: request.reference, repository: request.repository, subjects: decided.subjects },
    requirements.requiredArtifacts,
    opts,
    statement,
  );
  const parts = [...decided.parts, ...attested.parts];
  const extra = attested.validUntil === undefined ? {} : { validUntil: attested.validUntil };
  const failed = attested.results.find((a) => !a.passed);
  if (failed === undefined) return { ...result, ...base, ...extra, attestations: attested.results, parts };
  const error = new PortcullisError(
    failed.code as ConstructorParameters<typeof PortcullisError>[0],
    `required artifact ${failed.artifactType}: ${failed.reason}`,
    { context: { reference: request.reference, digest: request.artifact.digest, policy: statement.name } },
  );
  return {
    ...result,
    ...base,
    verified: false,
    signature: null,
    failedCheck: null,
    error,
    attestations: attested.results,
    parts,
  };
}

function own(result: ArtifactVerification, artifact: Descriptor): Decided {
  return {
    result,
    decidedBy:
      result.verified && result.signature !== null
        ? [{ role: 'manifest', digest: artifact.digest, signature: result.signature }]
        : [],
    parts: [result],
    subjects: [artifact],
  };
}

/** The manifest's bytes from the source, checked against its digest (the index is read, not only listed). */
async function fetchIndex(source: SignatureSource, descriptor: Descriptor): Promise<Uint8Array> {
  const bytes = await source.fetchManifest(descriptor);
  if (bytes.length !== descriptor.size || !matchesDigest(bytes, descriptor.digest)) {
    throw new PortcullisError(
      'ERR_DIGEST_MISMATCH',
      `the image index is not the content its descriptor names (${descriptor.digest}, ${descriptor.size} bytes; got ${bytes.length} bytes)`,
    );
  }
  return bytes;
}

function plain(d: Descriptor): ArtifactTarget {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

function label(p: PlatformEntry): string {
  return p.platform === undefined ? p.descriptor.digest : `${p.platform} (${p.descriptor.digest})`;
}

function repositoryOf(reference: string, repository: string): string {
  // `registry/repo:tag@digest` → `registry/repo`; a layout reference keeps its own spelling.
  return repository === '' ? reference.replace(/[@:][^/]*$/, '') : repository;
}

function errorOf(result: ArtifactVerification): { code: string; message: string } | undefined {
  return result.error === null ? undefined : { code: result.error.code, message: result.error.message };
}

async function byIndex(
  request: ImageVerificationRequest,
  opts: ImageVerificationOptions,
  mode: PlatformsMode,
): Promise<Decided> {
  const digest = request.artifact.digest;
  let indexResult: ArtifactVerification | undefined;
  if (mode !== 'all') {
    indexResult = await verifyArtifact(request, opts);
    const report: IndexReport = {
      digest,
      verified: indexResult.verified,
      ...(errorOf(indexResult) === undefined
        ? {}
        : { error: errorOf(indexResult) as { code: string; message: string } }),
      platforms: [],
    };
    if (indexResult.verified) {
      const decidedBy: DecidingSignature[] =
        indexResult.signature === null ? [] : [{ role: 'index', digest, signature: indexResult.signature }];
      return { result: indexResult, decidedBy, index: report, parts: [indexResult], subjects: [request.artifact] };
    }
    if (mode === 'index')
      return { result: indexResult, decidedBy: [], index: report, parts: [indexResult], subjects: [] };
  }

  const index = parseImageIndex(await fetchIndex(opts.source, request.artifact));
  const max = opts.maxPlatformManifests ?? MAX_PLATFORM_MANIFESTS;
  if (index.platforms.length === 0)
    throw new PortcullisError('ERR_INDEX_INVALID', `image index ${digest} lists no platform manifest`);
  if (index.platforms.length > max) {
    throw new PortcullisError(
      'ERR_INDEX_INVALID',
      `image index ${digest} lists ${index.platforms.length} platform manifests; at most ${max} are verified one by one (sign the index instead)`,
    );
  }
  const repo = repositoryOf(request.reference, request.repository);
  const results: ArtifactVerification[] = [];
  for (const p of index.platforms) {
    const r = await verifyArtifact(
      {
        reference: `${repo}@${p.descriptor.digest}`,
        repository: request.repository,
        artifact: plain(p.descriptor),
        ...(request.userMetadata === undefined ? {} : { userMetadata: request.userMetadata }),
      },
      opts,
    );
    results.push(r);
    // The first failure decides `all`; the rest are not worth the requests.
    if (!r.verified) break;
  }
  const platforms: PlatformResult[] = index.platforms.map((p, i) => {
    const r = results[i];
    const where = { digest: p.descriptor.digest, ...(p.platform === undefined ? {} : { platform: p.platform }) };
    if (r === undefined) return { ...where, verified: null };
    return { ...where, verified: r.verified, signature: r.signature, ...(errorOf(r) ?? {}) };
  });
  const report: IndexReport = {
    digest,
    verified: indexResult === undefined ? null : indexResult.verified,
    ...(indexResult === undefined || errorOf(indexResult) === undefined
      ? {}
      : { error: errorOf(indexResult) as { code: string; message: string } }),
    platforms,
  };
  const parts = [...(indexResult === undefined ? [] : [indexResult]), ...results];
  const failing = results.find((r) => !r.verified);
  if (failing === undefined) {
    const decidedBy: DecidingSignature[] = index.platforms.map((p, i) => ({
      role: 'platform',
      digest: p.descriptor.digest,
      ...(p.platform === undefined ? {} : { platform: p.platform }),
      signature: (results[i] as ArtifactVerification).signature ?? '',
    }));
    const result: ArtifactVerification = {
      reference: request.reference,
      artifact: request.artifact,
      policy: (results[0] as ArtifactVerification).policy,
      verified: true,
      skipped: false,
      signature: (results[0] as ArtifactVerification).signature,
      failedCheck: null,
      error: null,
      warnings: mergeWarnings(results),
      signatures: results.flatMap((r) => r.signatures),
    };
    return { result, decidedBy, index: report, parts, subjects: [request.artifact] };
  }
  const p = index.platforms[results.length - 1] as PlatformEntry;
  const why = `${failing.error?.message ?? 'not verified'} [${failing.error?.code ?? 'ERR_INTERNAL'}]`;
  let result: ArtifactVerification;
  if (indexResult === undefined) {
    const error = new PortcullisError(
      'ERR_PLATFORM_UNVERIFIED',
      `platform manifest ${label(p)} of image index ${request.reference} did not verify, and the statement requires every platform manifest to (platforms: all): ${why}`,
      { context: { reference: request.reference, digest, policy: failing.policy.name } },
    );
    result = { ...failing, reference: request.reference, artifact: request.artifact, error };
  } else {
    const indexError = indexResult.error as PortcullisError;
    // The index's code ends the whole message; the platform's is named only when it says something else.
    const platformWhy = failing.error?.code === indexError.code ? failing.error.message : why;
    const error = new PortcullisError(
      indexError.code,
      `${indexError.message}; nor did every platform manifest verify: ${label(p)}: ${platformWhy}`,
      { context: indexError.context },
    );
    result = { ...indexResult, error };
  }
  return { result, decidedBy: [], index: report, parts, subjects: [] };
}

async function byTagIndex(
  request: ImageVerificationRequest,
  opts: ImageVerificationOptions,
  tag: NonNullable<ImageVerificationRequest['tag']>,
): Promise<Decided> {
  // The manifest's own signatures first: they count in every mode and cost no tag resolution.
  const mine = await verifyArtifact(request, opts);
  if (mine.verified) return own(mine, request.artifact);
  const resolved = await tag.resolve();
  // The tag names no index, or the very manifest: nothing but the manifest's own signatures to go by.
  if (resolved === undefined || resolved.digest === request.artifact.digest || !isIndexMediaType(resolved.mediaType)) {
    return own(mine, request.artifact);
  }
  const index = parseImageIndex(await fetchIndex(opts.source, resolved));
  const repo = repositoryOf(request.reference, request.repository);
  if (listedIn(index, request.artifact) === undefined) {
    return {
      ...own(mine, request.artifact),
      index: { digest: resolved.digest, tag: tag.name, listed: false, verified: null, platforms: [] },
    };
  }
  const indexResult = await verifyArtifact(
    {
      reference: `${repo}:${tag.name}@${resolved.digest}`,
      repository: request.repository,
      artifact: plain(resolved),
      ...(request.userMetadata === undefined ? {} : { userMetadata: request.userMetadata }),
    },
    opts,
  );
  const report: IndexReport = {
    digest: resolved.digest,
    tag: tag.name,
    listed: true,
    verified: indexResult.verified,
    ...(errorOf(indexResult) === undefined ? {} : { error: errorOf(indexResult) as { code: string; message: string } }),
    platforms: [],
  };
  if (indexResult.verified) {
    const decidedBy: DecidingSignature[] =
      indexResult.signature === null
        ? []
        : [{ role: 'index', digest: resolved.digest, tag: tag.name, signature: indexResult.signature }];
    return {
      result: { ...indexResult, reference: request.reference, artifact: request.artifact },
      decidedBy,
      index: report,
      parts: [mine, indexResult],
      subjects: [request.artifact, plain(resolved)],
    };
  }
  const ownError = mine.error as PortcullisError;
  const error = new PortcullisError(
    ownError.code,
    `${ownError.message}; nor do the signatures of the index tag ${tag.name} names (${resolved.digest}), which lists it: ${indexResult.error?.message ?? 'not verified'} [${indexResult.error?.code ?? 'ERR_INTERNAL'}]`,
    { context: ownError.context },
  );
  return { ...own(mine, request.artifact), result: { ...mine, error }, index: report, parts: [mine, indexResult] };
}

function mergeWarnings(results: readonly ArtifactVerification[]): Warning[] {
  const seen = new Set<string>();
  const out: Warning[] = [];
  for (const w of results.flatMap((r) => r.warnings)) {
    if (seen.has(w.message)) continue;
    seen.add(w.message);
    out.push(w);
  }
  return out;
}
