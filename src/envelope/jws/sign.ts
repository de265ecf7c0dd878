import { encodeBase64, encodeBase64Url } from '../../util/index.js';
import { HEADER } from '../attributes.js';
import { type PreparedEnvelope, checkSignRequest } from '../request.js';
import { formatRfc3339 } from '../time.js';
import type { SignatureAlgorithm, SignRequest } from '../types.js';
import { goJsonStringify } from './go-json.js';

/**
 * Produces JWS envelopes byte-compatible with notation (notation-core-go signature/jws/jws.go
 * getSignedAttributes and generateJWS): the protected header is a map serialised with sorted
 * keys; crit lists signingScheme, then critical extended attributes in request order, then
 * authenticSigningTime (signing authority) and expiry when present. The envelope members and
 * the unprotected header keep Go's struct field order.
 */
export function jwsProtectedHeaderOf(request: SignRequest, algorithm: SignatureAlgorithm): Record<string, unknown> {
  const req = checkSignRequest(request);
  const crit: string[] = [HEADER.signingScheme];
  // Null prototype: an extended attribute named "__proto__" is just a key.
  const header = Object.create(null) as Record<string, unknown>;
  header['alg'] = algorithm;
  header['cty'] = req.contentType;
  header[HEADER.signingScheme] = req.signingScheme;
  for (const attr of req.extendedAttributes) {
    header[attr.key] = attr.value;
    if (attr.critical) crit.push(attr.key);
  }
  if (req.signingScheme === 'notary.x509') {
    header[HEADER.signingTime] = formatRfc3339(req.signingTime);
  } else {
    crit.push(HEADER.authenticSigningTime);
    header[HEADER.authenticSigningTime] = formatRfc3339(req.signingTime);
  }
  if (req.expiry !== undefined) {
    crit.push(HEADER.expiry);
    header[HEADER.expiry] = formatRfc3339(req.expiry);
  }
  header['crit'] = crit;
  return header;
}

export interface JwsParts {
  /** The protected header JSON text, used verbatim (so tests can write any bytes). */
  readonly protectedJson: string;
  readonly payload: Uint8Array;
  /** DER certificates, leaf first. */
  readonly certificateChain: readonly Uint8Array[];
  readonly signingAgent?: string | undefined;
  readonly timestampSignature?: Uint8Array | undefined;
}

/** Lays out a flattened JWS from already-built parts; the caller signs `signingInput`. */
export function prepareJwsFromParts(parts: JwsParts): PreparedEnvelope {
  const protectedB64 = encodeBase64Url(new Uint8Array(Buffer.from(parts.protectedJson, 'utf8')));
  const payloadB64 = encodeBase64Url(parts.payload);
  return {
    signingInput: new Uint8Array(Buffer.from(`${protectedB64}.${payloadB64}`, 'latin1')),
    finish(signature, timestampSignature = parts.timestampSignature) {
      const header: string[] = [];
      if (timestampSignature !== undefined && timestampSignature.length > 0) {
        header.push(
          `${goJsonStringify(HEADER.timestampSignature)}:${goJsonStringify(encodeBase64(timestampSignature))}`,
        );
      }
      header.push(`"x5c":${goJsonStringify(parts.certificateChain.map((der) => encodeBase64(der)))}`);
      if (parts.signingAgent !== undefined && parts.signingAgent !== '') {
        header.push(`${goJsonStringify(HEADER.signingAgent)}:${goJsonStringify(parts.signingAgent)}`);
      }
      const json =
        `{"payload":"${payloadB64}","protected":"${protectedB64}",` +
        `"header":{${header.join(',')}},"signature":"${encodeBase64Url(signature)}"}`;
      return new Uint8Array(Buffer.from(json, 'utf8'));
    },
  };
}

/** Prepares a JWS envelope for a sign request with the given (key-derived) algorithm. */
export function prepareJws(
  request: SignRequest,
  algorithm: SignatureAlgorithm,
  certificateChain: readonly Uint8Array[],
): PreparedEnvelope {
  return prepareJwsFromParts({
    protectedJson: goJsonStringify(jwsProtectedHeaderOf(request, algorithm)),
    payload: request.payload,
    certificateChain,
    signingAgent: request.signingAgent,
    timestampSignature: request.timestampSignature,
  });
}
