export {
  EKU,
  KEY_USAGE,
  CertificateCache,
  bytesEqual,
  certificateFrom,
  isIssuedBy,
  isSelfSigned,
  parseCertificate,
  parseCertificateFile,
  verifiesWith,
} from './certificate.js';
export type { BasicConstraints, Certificate, ExtendedKeyUsage, KeyInfo, KeyUsage } from './certificate.js';
export { formatName, parseName } from './names.js';
export type { NameAttribute, RdnSequence } from './names.js';
export { HASH_OF, isSupportedKey, keySpecName, signatureAlgorithmForKey } from './key-spec.js';
export type { HashName, SignatureAlgorithm } from './key-spec.js';
export { goQuote } from './go-quote.js';
export {
  certificateVersion,
  checkIssuedBy,
  insecureSignatureAlgorithm,
  ownSignatureError,
  signatureFromError,
} from './issuance.js';
export type { IssuanceResult } from './issuance.js';
export {
  validateCaCertificate,
  validateCertificateSignatureAlgorithm,
  validateKeySize,
  validateCaKeySize,
  validateLeafCertificate,
} from './requirements.js';
export type { CertificatePurpose } from './requirements.js';
export { MAX_CHAIN_LENGTH, validateCertificateChain } from './chain.js';
export { checkChainCoversInterval, checkChainValidAt, formatRfc1123Z, isValidAt } from './validity.js';
export type { ValidityReason } from './validity.js';
export {
  TRUST_STORE_NAME,
  TRUST_STORE_TYPES,
  buildTrustStore,
  chainContainsTrustedCertificate,
  isTrustStoreType,
} from './trust-store.js';
export type { TrustStoreFile, TrustStoreType } from './trust-store.js';
