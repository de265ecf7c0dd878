import { PortcullisError } from '../errors/index.js';
import type { Descriptor } from '../oci/index.js';
import { effectiveArtifactType, parseManifest, type Manifest } from '../oci/index.js';
import { statementNamed, type RequiredArtifact, type TrustPolicyStatement } from '../policy/index.js';
import { matchesDigest } from '../util/index.js';
import { verifyArtifact, type ArtifactVerification, type ArtifactVerificationOptions } from './artifact.js';

/**
 * Required signed artifacts (an SBOM, a vulnerability report): each required artifact type must
 * be attached to the image as a referrer, and one such referrer must carry a Notary signature
 * that passes the named statement (and, with `maxAge`, be recent enough by its
 * `org.opencontainers.image.created` annotation, read from the manifest itself — the referrers
 * listing's copy of the annotations is the registry's word, not the signer's).
 */

export interface ReferrerLister {
  /** Referrers of `subject` with this artifact type, as the registry (or layout) lists them. */
  listReferrers(subject: Descriptor, artifactType: string): Promise<readonly Descriptor[]>;
}

export type AttestationCode =
  'ERR_ATTESTATION_MISSING' | 'ERR_ATTESTATION_UNSIGNED' | 'ERR_ATTESTATION_REJECTED' | 'ERR_ATTESTATION_STALE';

export interface AttestationResult {
  readonly artifactType: string;
  /** The statement its signature had to pass. */
  readonly trustPolicy: string;
  readonly maxAge?: string;
  readonly passed: boolean;
  readonly code: AttestationCode | null;
  /** Why it passed or failed, in one line. */
  readonly reason: string;
  /** The attached artifact that passed, or the one whose failure `reason` describes. */
  readonly artifact?: string;
  /** The signature that passed. */
  readonly signature?: string;
  /** Its `org.opencontainers.image.created`, when read. */
  readonly created?: string;
  /** How many artifacts of the type are attached. */
  readonly found: number;
}

/** At most this many attached artifacts of one type are tried (newest first by their listed date). */
export const MAX_ATTESTATION_CANDIDATES = 8;
/** A `created` date this far ahead of the verification time still counts as now (clock skew). */
const FUTURE_SKEW_MS = 5 * 60_000;
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 date-time, or undefined. */
export function parseCreated(value: string | undefined): Date | undefined {
  if (value === undefined || !RFC3339.test(value)) return undefined;
  const ms = Date.parse(value.replace(' ', 'T'));
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

interface Failure {
  readonly rank: number;
  readonly code: AttestationCode;
  readonly reason: string;
  readonly artifact: string;
  readonly created?: string;
}

export interface AttestationsOutcome {
  readonly results: readonly AttestationResult[];
  readonly parts: readonly ArtifactVerification[];
  readonly validUntil?: Date;
}

/**
 * Checks each required artifact in order. `subjects`: where to look (the image's digest, and the
 * index that covers it when it was reached through a tag). Throws when the source cannot list
 * referrers or fails (the verdict is then undecided, not a rejection).
 */
export async function checkAttestations(
  image: { readonly reference: string; readonly repository: string; readonly subjects: readonly Descriptor[] },
  required: readonly RequiredArtifact[],
  options: ArtifactVerificationOptions & { readonly source: Partial<ReferrerLister> },
  imageStatement: TrustPolicyStatement,
): Promise<AttestationsOutcome> {
  const lister = options.source.listReferrers?.bind(options.source);
  if (lister === undefined) {
    throw new PortcullisError(
      'ERR_INTERNAL',
      'this signature source cannot list referrers, so required artifacts cannot be checked',
    );
  }
  const repo = image.repository === '' ? image.reference.replace(/[@:][^/]*$/, '') : image.repository;
  const results: AttestationResult[] = [];
  const parts: ArtifactVerification[] = [];
  let validUntil: number | undefined;
  for (const want of required) {
    const statement =
      want.trustPolicy === undefined ? imageStatement : statementNamed(options.policy, want.trustPolicy);
    if (statement === undefined) {
      throw new PortcullisError(
        'ERR_POLICY_INVALID',
        `required artifact ${want.artifactType} names trust policy statement ${JSON.stringify(want.trustPolicy)}, which the policy does not have`,
      );
    }
    const common = {
      artifactType: want.artifactType,
      trustPolicy: statement.name,
      ...(want.maxAge === undefined ? {} : { maxAge: want.maxAge }),
    };
    const found = await candidates(lister, image.subjects, want.artifactType);
    // Name every place looked: a platform manifest admitted through its tag's index may carry it on the index.
    const where =
      image.subjects.length > 1
        ? `${image.reference} nor to the image index ${image.subjects
            .slice(1)
            .map((d) => d.digest)
            .join(', ')} that admitted it`
        : image.reference;
    const missing = (listed: number): AttestationResult => ({
      ...common,
      passed: false,
      code: 'ERR_ATTESTATION_MISSING',
      reason:
        listed === 0
          ? `no artifact of type ${want.artifactType} is attached to ${where}`
          : `no artifact of type ${want.artifactType} is attached to ${where} (the registry lists ${listed}, but none is a manifest of that type whose subject is the image)`,
      found: 0,
    });
    if (found.length === 0) {
      results.push(missing(0));
      continue;
    }
    let worst: Failure | undefined;
    let passed: AttestationResult | undefined;
    let attached = 0;
    for (const { descriptor: candidate, subject } of found.slice(0, MAX_ATTESTATION_CANDIDATES)) {
      // The listing is the registry's word (a tag-schema index anyone who may push can edit): the
      // manifest itself, which the signature covers, must name this type and this subject, or a
      // signed SBOM of another image could be listed here.
      const read = await readCandidate(options, candidate);
      if (
        read.manifest === undefined ||
        read.manifest.subject?.digest !== subject.digest ||
        effectiveArtifactType(read.manifest) !== want.artifactType
      )
        continue;
      attached++;
      const result = await verifyArtifact(
        {
          reference: `${repo}@${candidate.digest}`,
          repository: image.repository,
          artifact: { mediaType: candidate.mediaType, digest: candidate.digest, size: candidate.size },
        },
        { ...options, statement },
      );
      parts.push(result);
      let failure: Failure | undefined;
      let created: Date | undefined;
      let createdText: string | undefined;
      if (!result.verified) {
        failure =
          result.error?.code === 'ERR_NO_SIGNATURE'
            ? {
                rank: 0,
                code: 'ERR_ATTESTATION_UNSIGNED',
                reason: `${candidate.digest} is not signed`,
                artifact: candidate.digest,
              }
            : {
                rank: 1,
                code: 'ERR_ATTESTATION_REJECTED',
                reason: `no signature of ${candidate.digest} passes trust policy statement "${statement.name}": ${result.failedCheck === null ? '' : `${result.failedCheck} check failed: `}${result.error?.message ?? 'not verified'} [${result.error?.code ?? 'ERR_INTERNAL'}]`,
                artifact: candidate.digest,
              };
      } else if (want.maxAgeMs !== undefined) {
        createdText = read.manifest.annotations[CREATED_ANNOTATION];
        created = parseCreated(createdText);
        const at = options.at.getTime();
        const why =
          created === undefined
            ? createdText === undefined
              ? `has no ${CREATED_ANNOTATION} annotation, so its age (at most ${want.maxAge ?? ''}) cannot be told`
              : `has an ${CREATED_ANNOTATION} annotation that is not an RFC 3339 date (${JSON.stringify(createdText.slice(0, 64))})`
            : created.getTime() > at + FUTURE_SKEW_MS
              ? `was created in the future (${createdText ?? ''})`
              : created.getTime() + want.maxAgeMs < at
                ? `was created ${createdText ?? ''}, more than ${want.maxAge ?? ''} ago`
                : undefined;
        if (why !== undefined)
          failure = {
            rank: 2,
            code: 'ERR_ATTESTATION_STALE',
            reason: `${candidate.digest} ${why}`,
            artifact: candidate.digest,
            ...(createdText === undefined ? {} : { created: createdText }),
          };
      }
      if (failure !== undefined) {
        if (worst === undefined || failure.rank > worst.rank) worst = failure;
        continue;
      }
      if (created !== undefined && want.maxAgeMs !== undefined) {
        const until = created.getTime() + want.maxAgeMs;
        validUntil = validUntil === undefined ? until : Math.min(validUntil, until);
      }
      passed = {
        ...common,
        passed: true,
        code: null,
        reason: `${candidate.digest} is signed (signature ${result.signature ?? ''}) and passes trust policy statement "${statement.name}"${createdText === undefined ? '' : `, created ${createdText}`}`,
        artifact: candidate.digest,
        ...(result.signature === null ? {} : { signature: result.signature }),
        ...(createdText === undefined ? {} : { created: createdText }),
        found: attached,
      };
      break;
    }
    if (passed !== undefined) results.push(passed);
    else if (worst === undefined) results.push(missing(found.length));
    else {
      const w = worst;
      const more = attached > 1 ? ` (${attached} attached; none passes)` : '';
      results.push({
        ...common,
        passed: false,
        code: w.code,
        reason: `${w.reason}${more}`,
        artifact: w.artifact,
        ...(w.created === undefined ? {} : { created: w.created }),
        found: attached,
      });
    }
  }
  return { results, parts, ...(validUntil === undefined ? {} : { validUntil: new Date(validUntil) }) };
}

/** The referrers of the type across the subjects, each once, newest first by their listed date. */
async function candidates(
  lister: ReferrerLister['listReferrers'],
  subjects: readonly Descriptor[],
  artifactType: string,
): Promise<{ readonly descriptor: Descriptor; readonly subject: Descriptor }[]> {
  const seen = new Set<string>();
  const out: { descriptor: Descriptor; subject: Descriptor }[] = [];
  for (const subject of subjects) {
    for (const d of await lister(subject, artifactType)) {
      // Registries without filtering return every referrer: the type is checked here.
      if (d.artifactType !== artifactType || seen.has(d.digest)) continue;
      seen.add(d.digest);
      out.push({ descriptor: d, subject });
    }
  }
  // Only an order: the date that counts is read from the manifest itself.
  const listed = (d: Descriptor): number => parseCreated(d.annotations?.[CREATED_ANNOTATION])?.getTime() ?? -Infinity;
  return out.sort((a, b) => listed(b.descriptor) - listed(a.descriptor));
}

/** The attached artifact's manifest, checked against its digest; undefined when it is not a manifest. */
async function readCandidate(
  options: ArtifactVerificationOptions,
  candidate: Descriptor,
): Promise<{ readonly manifest?: Manifest }> {
  const bytes = await options.source.fetchManifest(candidate);
  if (bytes.length !== candidate.size || !matchesDigest(bytes, candidate.digest)) {
    throw new PortcullisError(
      'ERR_DIGEST_MISMATCH',
      `the attached artifact is not the content its descriptor names (${candidate.digest})`,
    );
  }
  try {
    return { manifest: parseManifest(bytes) };
  } catch {
    return {};
  }
}
