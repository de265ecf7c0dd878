export { ERROR_CODES, isErrorCode } from './codes.js';
export { GUIDANCE } from './troubleshooting.js';
export type { Guidance } from './troubleshooting.js';
export type { ErrorCode, ErrorCodeInfo } from './codes.js';
export { PortcullisError, isPortcullisError, toPortcullisError } from './portcullis-error.js';
export type { ErrorContext, PortcullisErrorOptions } from './portcullis-error.js';
