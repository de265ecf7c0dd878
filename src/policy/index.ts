import { parseBlobTrustPolicyJson, parseTrustPolicyJson } from './document.js';
import { validateBlobTrustPolicy } from './blob.js';
import type { BlobTrustPolicy, TrustPolicy } from './types.js';
import { validateTrustPolicy } from './validate.js';

export { parseTrustPolicyJson, parseBlobTrustPolicyJson, TRUST_POLICY_LINK } from './document.js';
export { validateTrustPolicy, SUPPORTED_VERSIONS } from './validate.js';
export { validateBlobTrustPolicy, selectBlobStatement } from './blob.js';
export { findStatement, selectStatement } from './select.js';
export { matchTrustedIdentity, leafSubjectForMatching } from './identity.js';
export { parseDistinguishedName, isSubsetDn } from './dn.js';
export type { DnResult } from './dn.js';
export { LEVELS, LEVEL_NAMES, levelActions, isLevelName } from './levels.js';
export { registryScopeError, WILDCARD_SCOPE } from './registry-scopes.js';
export { CHECKS } from './types.js';
export type * from './types.js';

/** Parses and validates trustpolicy.oci.json text; throws ERR_POLICY_INVALID. */
export function loadTrustPolicy(text: string): TrustPolicy {
  return validateTrustPolicy(parseTrustPolicyJson(text));
}

/** Parses and validates trustpolicy.blob.json text; throws ERR_POLICY_INVALID. */
export function loadBlobTrustPolicy(text: string): BlobTrustPolicy {
  return validateBlobTrustPolicy(parseBlobTrustPolicyJson(text));
}
export {
  DEFAULT_IMAGE_REQUIREMENTS,
  DEFAULT_PLATFORMS_MODE,
  MAX_REQUIRED_ARTIFACTS,
  PLATFORMS_MODES,
  artifactTypeError,
  isPlatformsMode,
  parseMaxAge,
  requirementsError,
  statementNamed,
} from './image-requirements.js';
export type { ImageRequirements, PlatformsMode, RequiredArtifact } from './image-requirements.js';
