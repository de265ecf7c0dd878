import { PortcullisError } from '../errors/index.js';
import {
  DEFAULT_PLATFORMS_MODE,
  PLATFORMS_MODES,
  isPlatformsMode,
  parseMaxAge,
  requirementsError,
  type ImageRequirements,
  type TrustPolicy,
  type TrustPolicyStatement,
} from '../policy/index.js';

/** `verify --platforms`, `--require-artifact`, `--artifact-policy`, `--artifact-max-age`. */
export interface ImageRequirementFlags {
  readonly platforms?: string;
  readonly requireArtifact?: readonly string[];
  readonly artifactPolicy?: string;
  readonly artifactMaxAge?: string;
}

/**
 * The CLI's requirements for the statement in force: the same settings a resource's
 * `spec.statementOptions` gives, from flags (trustpolicy.json is notation's and has no place
 * for them). Throws ERR_INPUT_INVALID naming the flag.
 */
export function requirementsFromFlags(
  flags: ImageRequirementFlags,
  policy: TrustPolicy,
  statement: TrustPolicyStatement,
): ImageRequirements {
  const platforms = flags.platforms ?? DEFAULT_PLATFORMS_MODE;
  if (!isPlatformsMode(platforms)) {
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `--platforms ${JSON.stringify(platforms)} is not one of ${PLATFORMS_MODES.join(', ')}`,
    );
  }
  const types = flags.requireArtifact ?? [];
  if (types.length === 0 && (flags.artifactPolicy !== undefined || flags.artifactMaxAge !== undefined)) {
    throw new PortcullisError('ERR_INPUT_INVALID', '--artifact-policy and --artifact-max-age need --require-artifact');
  }
  let maxAgeMs: number | undefined;
  if (flags.artifactMaxAge !== undefined) {
    try {
      maxAgeMs = parseMaxAge(flags.artifactMaxAge);
    } catch (error) {
      throw new PortcullisError('ERR_INPUT_INVALID', `--artifact-max-age: ${(error as Error).message}`);
    }
  }
  const requirements: ImageRequirements = {
    platforms,
    requiredArtifacts: types.map((artifactType) => ({
      artifactType,
      ...(flags.artifactPolicy === undefined ? {} : { trustPolicy: flags.artifactPolicy }),
      ...(flags.artifactMaxAge === undefined ? {} : { maxAge: flags.artifactMaxAge, maxAgeMs: maxAgeMs as number }),
    })),
  };
  const problem = requirementsError(policy, statement, requirements);
  if (problem !== undefined) throw new PortcullisError('ERR_INPUT_INVALID', `--require-artifact: ${problem}`);
  return requirements;
}
