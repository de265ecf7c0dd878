import { type ErrorCode, PortcullisError } from '../errors/index.js';

/**
 * Strict base64 codecs. Node's Buffer decoder is lenient (it skips invalid characters, accepts
 * missing or extra padding and ignores non-zero trailing bits), so every decode here is checked
 * against the alphabet and then re-encoded: only the one canonical spelling of a byte string is
 * accepted. Go's base64.RawURLEncoding / StdEncoding, which notation uses, are as strict
 * (notary-spec-digest §4, §15.8: a padded JWS payload is an integrity failure).
 */

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const BASE64STD = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes base64url without padding (RFC 7515 §2 "Base64url Encoding"). */
export function decodeBase64Url(text: string, what = 'value', code: ErrorCode = 'ERR_INPUT_INVALID'): Uint8Array {
  if (!BASE64URL.test(text) || text.length % 4 === 1) {
    throw new PortcullisError(code, `${what} is not unpadded base64url`);
  }
  const bytes = Buffer.from(text, 'base64url');
  // Re-encoding rejects non-zero trailing bits (e.g. "QR" and "QQ" would both decode to "A").
  if (bytes.toString('base64url') !== text) {
    throw new PortcullisError(code, `${what} is not canonical base64url`);
  }
  return new Uint8Array(bytes);
}

/** Decodes standard base64 with the padding RFC 4648 §4 requires. */
export function decodeBase64(text: string, what = 'value', code: ErrorCode = 'ERR_INPUT_INVALID'): Uint8Array {
  if (!BASE64STD.test(text) || text.length % 4 !== 0) {
    throw new PortcullisError(code, `${what} is not padded standard base64`);
  }
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) {
    throw new PortcullisError(code, `${what} is not canonical base64`);
  }
  return new Uint8Array(bytes);
}

export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
