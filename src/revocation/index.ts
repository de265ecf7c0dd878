export { OnlineRevocationChecker, RevocationCache } from './checker.js';
export type {
  CertificateRevocation,
  DetailedRevocationResult,
  OnlineRevocationCheckerOptions,
  RevocationCheckerStats,
} from './checker.js';
export { HttpRevocationFetcher } from './http-fetcher.js';
export type { HttpRevocationFetcherOptions } from './http-fetcher.js';
export { RevocationFetchError, isHttpUrl } from './fetcher.js';
export type { FetchFailure, FetchInit, RevocationFetcher } from './fetcher.js';
export {
  DEFAULT_SKEW_MS,
  buildOcspRequest,
  evaluateOcspResponse,
  ocspCertId,
  ocspGetUrl,
  parseOcspResponse,
} from './ocsp.js';
export type { OcspCertId, OcspCheckInput, OcspOutcome, OcspRequest, OcspStatus } from './ocsp.js';
export { freshestCrlOf, lookupCertificate, parseCrl, parseFreshestCrl, validateCrl, validateDelta } from './crl.js';
export type { CrlEntry, CrlLookup, CrlValidation, FreshestCrlPointer, ParsedCrl } from './crl.js';
export { ByteLruCache } from './cache.js';
export { RevocationMaterial } from './material.js';
export type { MaterialItem, PreloadedCrl, PreloadedOcsp } from './material.js';
export { MATERIAL_LIMITS, RevocationMaterialDirectory, loadRevocationMaterial } from './material-files.js';
