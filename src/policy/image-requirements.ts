import { PortcullisError } from '../errors/index.js';
import type { TrustPolicy, TrustPolicyStatement } from './types.js';

/**
 * What Portcullis asks of an image beyond notation's trust policy statement: which manifests'
 * signatures count for a multi-platform image, and which signed artifacts must be attached to
 * it. Kept beside the notation document (a resource's `spec.statementOptions`, the CLI's
 * `--platforms` / `--require-artifact`), never inside it, so the document stays notation's.
 */

/**
 * - `index`: a signature on the index suffices (it covers the manifests it lists by digest);
 * - `all`: every platform manifest the index lists must verify by its own signatures;
 * - `any-of-index-or-all` (the default): either. notation signs whatever digest it is given, so
 *   publishers sign the index, each platform manifest, or both; the default admits all three
 *   habits without weakening anything — each path still needs a signature that passes the
 *   statement over content that covers what the runtime pulls.
 */
export type PlatformsMode = 'index' | 'all' | 'any-of-index-or-all';
export const PLATFORMS_MODES: readonly PlatformsMode[] = ['index', 'all', 'any-of-index-or-all'];
export const DEFAULT_PLATFORMS_MODE: PlatformsMode = 'any-of-index-or-all';

/** One artifact type that must be attached to the image (as a referrer) and signed. */
export interface RequiredArtifact {
  /** e.g. `application/spdx+json`: compared exactly with the referrer's artifact type. */
  readonly artifactType: string;
  /** The statement (by name, same document) the artifact's signature must pass; absent = the image's statement. */
  readonly trustPolicy?: string;
  /** As written (`720h`, `30d`), for messages. */
  readonly maxAge?: string;
  /** `maxAge` in milliseconds. */
  readonly maxAgeMs?: number;
}

export interface ImageRequirements {
  readonly platforms: PlatformsMode;
  readonly requiredArtifacts: readonly RequiredArtifact[];
}

export const DEFAULT_IMAGE_REQUIREMENTS: ImageRequirements = Object.freeze({
  platforms: DEFAULT_PLATFORMS_MODE,
  requiredArtifacts: Object.freeze([]),
});

/** At most this many required artifacts per statement (each costs registry requests per image). */
export const MAX_REQUIRED_ARTIFACTS = 16;

// RFC 6838 type/subtype (restricted-name), as the OCI spec uses for artifact types.
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

const UNIT_MS: Readonly<Record<string, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };
/** Ten years: anything longer is a typo, not a freshness requirement. */
const MAX_AGE_CAP_MS = 10 * 365 * 86_400_000;

function invalid(message: string): PortcullisError {
  return new PortcullisError('ERR_INPUT_INVALID', message);
}

export function isPlatformsMode(value: unknown): value is PlatformsMode {
  return typeof value === 'string' && (PLATFORMS_MODES as readonly string[]).includes(value);
}

/**
 * A maximum age: whole numbers with units d, h, m, s, in that order (`30d`, `720h`, `1d12h`,
 * `90m`). Positive, at most ten years. Throws ERR_INPUT_INVALID.
 */
export function parseMaxAge(text: string): number {
  const match = /^(?:(\d{1,6})d)?(?:(\d{1,7})h)?(?:(\d{1,9})m)?(?:(\d{1,10})s)?$/.exec(text);
  if (text === '' || match === null) {
    throw invalid(
      `maxAge ${JSON.stringify(text)} is not a duration such as 30d, 720h, 1d12h or 90m (units d, h, m, s)`,
    );
  }
  const [, d, h, m, s] = match;
  const ms =
    Number(d ?? 0) * (UNIT_MS.d as number) +
    Number(h ?? 0) * (UNIT_MS.h as number) +
    Number(m ?? 0) * (UNIT_MS.m as number) +
    Number(s ?? 0) * (UNIT_MS.s as number);
  if (ms <= 0) throw invalid(`maxAge ${JSON.stringify(text)} must be longer than zero`);
  if (ms > MAX_AGE_CAP_MS) throw invalid(`maxAge ${JSON.stringify(text)} is longer than ten years`);
  return ms;
}

/** Checks an artifact type (a media type, RFC 6838). */
export function artifactTypeError(value: string): string | undefined {
  return MEDIA_TYPE.test(value)
    ? undefined
    : `artifact type ${JSON.stringify(value)} is not a media type such as application/spdx+json`;
}

/** The statement of `policy` named `name`, if any. */
export function statementNamed(policy: TrustPolicy, name: string): TrustPolicyStatement | undefined {
  return policy.statements.find((s) => s.name === name);
}

/**
 * Why the requirements cannot apply to `statement` of `policy`, or undefined when they can: a
 * required artifact names no statement of the document, or one at level `skip` (whose
 * "signature" proves nothing), the same artifact type twice, too many; requirements on a
 * `skip` statement would never be checked.
 */
export function requirementsError(
  policy: TrustPolicy,
  statement: TrustPolicyStatement,
  requirements: ImageRequirements,
): string | undefined {
  const artifacts = requirements.requiredArtifacts;
  if (artifacts.length === 0) return undefined;
  if (statement.level === 'skip') {
    return `statement ${JSON.stringify(statement.name)} is at level skip, so its required artifacts would never be checked`;
  }
  if (artifacts.length > MAX_REQUIRED_ARTIFACTS) {
    return `statement ${JSON.stringify(statement.name)} requires ${artifacts.length} artifacts; at most ${MAX_REQUIRED_ARTIFACTS}`;
  }
  const seen = new Set<string>();
  for (const a of artifacts) {
    const typeError = artifactTypeError(a.artifactType);
    if (typeError !== undefined) return typeError;
    if (seen.has(a.artifactType)) return `artifact type ${a.artifactType} is required twice`;
    seen.add(a.artifactType);
    if (a.trustPolicy !== undefined) {
      const named = statementNamed(policy, a.trustPolicy);
      if (named === undefined) {
        return `required artifact ${a.artifactType} names trust policy statement ${JSON.stringify(a.trustPolicy)}, which the document does not have`;
      }
      if (named.level === 'skip') {
        return `required artifact ${a.artifactType} names trust policy statement ${JSON.stringify(a.trustPolicy)}, which is at level skip (it would accept an unsigned artifact)`;
      }
    }
  }
  return undefined;
}
