import { PortcullisError } from '../errors/index.js';
import {
  DEFAULT_IMAGE_REQUIREMENTS,
  PLATFORMS_MODES,
  isPlatformsMode,
  parseMaxAge,
  requirementsError,
  statementNamed,
  type ImageRequirements,
  type RequiredArtifact,
  type TrustPolicy,
} from '../policy/index.js';

/**
 * `spec.statementOptions` of a TrustPolicy or ClusterTrustPolicy: Portcullis' settings for the
 * statements of the notation document beside it (the document itself stays notation's):
 *
 * ```yaml
 * statementOptions:
 *   - statement: prod              # a statement name of spec.trustPolicies
 *     platforms: index             # index | all | any-of-index-or-all (default)
 *     requiredArtifacts:
 *       - artifactType: application/spdx+json
 *         trustPolicy: sbom-signers   # the statement its signature must pass (default: prod)
 *         maxAge: 720h                # by org.opencontainers.image.created (optional)
 * ```
 */

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(message: string): never {
  throw new PortcullisError('ERR_RESOURCE_INVALID', message);
}

function allowOnly(object: Obj, keys: readonly string[], where: string): void {
  for (const key of Object.keys(object)) {
    if (!keys.includes(key)) fail(`${where} has unknown field ${JSON.stringify(key)} (allowed: ${keys.join(', ')})`);
  }
}

/** Statement name → requirements; statements not listed have the defaults (`statementRequirements`). */
export type StatementOptions = ReadonlyMap<string, ImageRequirements>;

export const NO_STATEMENT_OPTIONS: StatementOptions = new Map();

/** The requirements of a statement under these options. */
export function statementRequirements(options: StatementOptions | undefined, statement: string): ImageRequirements {
  return options?.get(statement) ?? DEFAULT_IMAGE_REQUIREMENTS;
}

/** Reads and checks `spec.statementOptions` against the document's statements; throws ERR_RESOURCE_INVALID. */
export function parseStatementOptions(value: unknown, policy: TrustPolicy): StatementOptions {
  if (value === undefined || value === null) return NO_STATEMENT_OPTIONS;
  if (!Array.isArray(value)) fail('spec.statementOptions must be a list');
  const out = new Map<string, ImageRequirements>();
  value.forEach((entry, i) => {
    const where = `spec.statementOptions[${i}]`;
    if (!isObject(entry)) fail(`${where} must be an object`);
    allowOnly(entry, ['statement', 'platforms', 'requiredArtifacts'], where);
    const name = entry['statement'];
    if (typeof name !== 'string' || name === '')
      fail(`${where}.statement is missing (a statement name of spec.trustPolicies)`);
    const statement = statementNamed(policy, name);
    if (statement === undefined)
      fail(`${where}.statement ${JSON.stringify(name)} is not a statement of spec.trustPolicies`);
    if (out.has(name)) fail(`${where}: statement ${JSON.stringify(name)} has options twice`);
    const platforms = entry['platforms'] ?? DEFAULT_IMAGE_REQUIREMENTS.platforms;
    if (!isPlatformsMode(platforms)) {
      fail(`${where}.platforms ${JSON.stringify(platforms)} is not one of ${PLATFORMS_MODES.join(', ')}`);
    }
    const requiredArtifacts = readRequired(entry['requiredArtifacts'], `${where}.requiredArtifacts`);
    const requirements: ImageRequirements = Object.freeze({ platforms, requiredArtifacts });
    const problem = requirementsError(policy, statement, requirements);
    if (problem !== undefined) fail(`${where}: ${problem}`);
    out.set(name, requirements);
  });
  return out;
}

function readRequired(value: unknown, where: string): readonly RequiredArtifact[] {
  if (value === undefined || value === null) return Object.freeze([]);
  if (!Array.isArray(value)) fail(`${where} must be a list`);
  return Object.freeze(
    value.map((item, i): RequiredArtifact => {
      const at = `${where}[${i}]`;
      if (!isObject(item)) fail(`${at} must be an object`);
      allowOnly(item, ['artifactType', 'trustPolicy', 'maxAge'], at);
      const { artifactType, trustPolicy, maxAge } = item;
      if (typeof artifactType !== 'string' || artifactType === '') fail(`${at}.artifactType is missing`);
      if (trustPolicy !== undefined && (typeof trustPolicy !== 'string' || trustPolicy === ''))
        fail(`${at}.trustPolicy must be a statement name`);
      if (maxAge !== undefined && typeof maxAge !== 'string') fail(`${at}.maxAge must be a string such as 720h or 30d`);
      let maxAgeMs: number | undefined;
      if (maxAge !== undefined) {
        try {
          maxAgeMs = parseMaxAge(maxAge);
        } catch (error) {
          fail(`${at}.${(error as Error).message}`);
        }
      }
      return Object.freeze({
        artifactType,
        ...(trustPolicy === undefined ? {} : { trustPolicy: trustPolicy as string }),
        ...(maxAge === undefined ? {} : { maxAge: maxAge as string, maxAgeMs: maxAgeMs as number }),
      });
    }),
  );
}
