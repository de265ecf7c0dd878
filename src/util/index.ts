export { decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url } from './base64.js';
export { digestOf, matchesDigest, parseDigest, sha256Hex } from './digest.js';
export { isJsonObject, parseStrictJson } from './strict-json.js';
export { USER_AGENT } from './user-agent.js';
export type { DigestAlgorithm } from './digest.js';
export type { JsonValue } from './strict-json.js';
export type { Mutable } from './types.js';
export { SingleFlight } from './single-flight.js';
export { compareSemVer, parseSemVer } from './semver.js';
