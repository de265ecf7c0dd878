export { parseTimestampToken } from './token.js';
export type {
  Accuracy,
  MessageImprint,
  SignedAttribute,
  SignerIdentifier,
  TimestampSignerInfo,
  TimestampToken,
  TstInfo,
} from './token.js';
export { accuracyMsOf, verifyTimestamp } from './verify.js';
export type { TimestampVerification, VerifyTimestampOptions } from './verify.js';
export { buildTimestampRequest, parseTimestampResponse } from './request.js';
export type { TimestampRequestOptions } from './request.js';
export { OID as TIMESTAMP_OID } from './oids.js';
