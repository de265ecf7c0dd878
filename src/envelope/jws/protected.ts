import { PortcullisError } from '../../errors/index.js';
import { decodeBase64Url, isJsonObject, parseStrictJson } from '../../util/index.js';
import { isSignatureAlgorithm } from '../algorithms.js';
import { isTimeHeader, type ProtectedHeaderFields } from '../attributes.js';
import { parseRfc3339 } from '../time.js';
import type { SignatureAlgorithm } from '../types.js';

/**
 * Decodes the JWS protected header (signature-envelope-jws.md; RFC 7515 §4): strict base64url,
 * strict JSON object without duplicate names, `alg` one of the six Notary algorithms (never
 * `none` or HMAC), `cty` and `crit` present with the right types, times as RFC 3339 strings.
 */

/** Header parameter names RFC 7515 §4.1 registers; none of them may appear in `crit`. */
export const JWS_REGISTERED: ReadonlySet<string> = new Set([
  'alg',
  'jku',
  'jwk',
  'kid',
  'x5u',
  'x5c',
  'x5t',
  'x5t#S256',
  'typ',
  'cty',
  'crit',
]);

const MAX_HEADER_DEPTH = 32;

export interface JwsProtectedHeader {
  readonly algorithm: SignatureAlgorithm;
  readonly fields: ProtectedHeaderFields;
}

function invalid(message: string): PortcullisError {
  return new PortcullisError('ERR_ENVELOPE_HEADER_INVALID', message);
}

export function decodeJwsProtectedHeader(encoded: string, maxBytes: number): JwsProtectedHeader {
  const raw = decodeBase64Url(encoded, 'JWS protected header', 'ERR_ENVELOPE_MALFORMED');
  const header = parseStrictJson(raw, {
    maxBytes,
    maxDepth: MAX_HEADER_DEPTH,
    code: 'ERR_ENVELOPE_MALFORMED',
    what: 'JWS protected header',
  });
  if (!isJsonObject(header))
    throw new PortcullisError('ERR_ENVELOPE_MALFORMED', 'JWS protected header is not a JSON object');

  const alg = header['alg'];
  if (alg === undefined) throw invalid('missing "alg" header');
  if (!isSignatureAlgorithm(alg)) {
    throw new PortcullisError('ERR_ENVELOPE_ALGORITHM', `signature algorithm ${JSON.stringify(alg)} is not supported`);
  }

  const cty = header['cty'];
  if (typeof cty !== 'string') throw invalid('"cty" header must be present and a string');

  const crit = header['crit'];
  if (!Array.isArray(crit) || crit.some((c) => typeof c !== 'string')) {
    throw invalid('"crit" header must be present and a list of header names');
  }

  const headers = new Map<string, unknown>();
  for (const [key, value] of Object.entries(header)) {
    if (JWS_REGISTERED.has(key)) {
      // alg/cty/crit are handled above; Notary defines no use for the other registered ones and a
      // key or certificate reference inside the signed header would be a second source of truth.
      if (key !== 'alg' && key !== 'cty' && key !== 'crit')
        throw invalid(`header "${key}" is not allowed in a Notary envelope`);
      continue;
    }
    if (isTimeHeader(key)) {
      const time = typeof value === 'string' ? parseRfc3339(value) : undefined;
      if (time === undefined) throw invalid(`"${key}" header must be an RFC 3339 date-time string`);
      headers.set(key, time);
    } else {
      headers.set(key, value);
    }
  }
  return { algorithm: alg, fields: { contentType: cty, crit: crit as string[], headers, registered: JWS_REGISTERED } };
}
