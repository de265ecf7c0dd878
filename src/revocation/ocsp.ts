import '../x509/reflect-polyfill.js';
import { createHash } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extension, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse,
  CertID,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request,
  TBSRequest,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
} from '@peculiar/asn1-ocsp';
import { PortcullisError } from '../errors/index.js';
import {
  EKU,
  KEY_USAGE,
  bytesEqual,
  certificateFrom,
  isIssuedBy,
  type Certificate,
  type CertificateCache,
} from '../x509/index.js';
import { verifySignedData } from './signature.js';
import { reasonName } from './reasons.js';

/**
 * OCSP (RFC 6960) for one certificate: building the request, parsing the response and deciding
 * what it says. Pure: bytes, certificates and a time in, a result out; the checker does the I/O.
 */

const HASH_OIDS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const SHA1_OID = '1.3.14.3.2.26';
const DER_NULL = new Uint8Array([0x05, 0x00]);

/** Default tolerance for a responder clock that runs ahead (thisUpdate slightly in the future). */
export const DEFAULT_SKEW_MS = 5 * 60_000;

export interface OcspCertId {
  /** SHA-1 of the issuer's DN and key, as RFC 6960 §4.1.1 / RFC 5019 require for interoperability. */
  readonly issuerNameHash: Uint8Array;
  readonly issuerKeyHash: Uint8Array;
  /** The certificate serial number, as encoded (two's complement, big-endian). */
  readonly serialNumber: Uint8Array;
}

export interface OcspRequest {
  readonly der: Uint8Array;
  readonly certId: OcspCertId;
  readonly nonce?: Uint8Array;
}

function hash(algorithm: string, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(algorithm).update(data).digest());
}

/** The subjectPublicKey BIT STRING contents (what the key hash covers, RFC 6960 §4.1.1). */
function publicKeyBits(cert: Certificate): Uint8Array {
  return new Uint8Array(AsnConvert.parse(cert.peculiar.publicKey.rawData, SubjectPublicKeyInfo).subjectPublicKey);
}

/** The serial number's encoded bytes (@peculiar/x509 gives them as hex). */
export function serialBytes(cert: Certificate): Uint8Array {
  return new Uint8Array(Buffer.from(cert.serialNumber, 'hex'));
}

/** Serial numbers compare as integers: leading zero octets (sign padding) do not count. */
export function normalizeSerial(bytes: Uint8Array): string {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return Buffer.from(bytes.subarray(i)).toString('hex');
}

export function ocspCertId(cert: Certificate, issuer: Certificate): OcspCertId {
  return {
    issuerNameHash: hash('sha1', cert.issuerDer),
    issuerKeyHash: hash('sha1', publicKeyBits(issuer)),
    serialNumber: serialBytes(cert),
  };
}

/** A DER OCSPRequest for one certificate (unsigned; optional RFC 8954 nonce of 1..32 bytes). */
export function buildOcspRequest(
  cert: Certificate,
  issuer: Certificate,
  options: { nonce?: Uint8Array } = {},
): OcspRequest {
  const certId = ocspCertId(cert, issuer);
  const reqCert = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA1_OID, parameters: DER_NULL.slice().buffer }),
    issuerNameHash: new OctetString(certId.issuerNameHash),
    issuerKeyHash: new OctetString(certId.issuerKeyHash),
    serialNumber: certId.serialNumber.slice().buffer,
  });
  const { nonce } = options;
  if (nonce !== undefined && (nonce.length < 1 || nonce.length > 32)) {
    throw new PortcullisError('ERR_INPUT_INVALID', 'an OCSP nonce must be 1 to 32 bytes (RFC 8954)');
  }
  const tbsRequest = new TBSRequest({ requestList: [new Request({ reqCert })] });
  if (nonce !== undefined) {
    tbsRequest.requestExtensions = [
      new Extension({
        extnID: id_pkix_ocsp_nonce,
        critical: false,
        extnValue: new OctetString(AsnConvert.serialize(new OctetString(nonce))),
      }),
    ];
  }
  const der = new Uint8Array(AsnConvert.serialize(new OCSPRequest({ tbsRequest })));
  return { der, certId, ...(nonce === undefined ? {} : { nonce }) };
}

export type OcspStatus = 'good' | 'revoked' | 'unknown';

/** What a response says about the certificate, or why it cannot be used (`invalid`). */
export interface OcspOutcome {
  /**
   * good / revoked / unknown: a verified answer; invalid: malformed, unverifiable, stale or not about this certificate.
   */
  readonly status: OcspStatus | 'invalid';
  readonly detail: string;
  readonly revokedAt?: Date;
  readonly reason?: string;
  readonly thisUpdate?: Date;
  readonly nextUpdate?: Date;
  /** Who signed: the issuer itself or a delegated responder certificate (RFC 6960 §4.2.2.2). */
  readonly signer?: 'issuer' | 'delegated';
}

export interface OcspCheckInput {
  readonly cert: Certificate;
  readonly issuer: Certificate;
  /** The time the answer must be valid at. */
  readonly at: Date;
  /** The nonce sent with the request; a response carrying a different one is rejected. */
  readonly nonce?: Uint8Array;
  /** Reject responses without the nonce (default false: many responders serve pre-signed responses). */
  readonly requireNonce?: boolean;
  readonly skewMs?: number;
  /** Parses embedded responder certificates through this cache when given. */
  readonly certificateCache?: CertificateCache;
}

function invalid(detail: string): OcspOutcome {
  return { status: 'invalid', detail };
}

/** Parses the outer OCSPResponse and the BasicOCSPResponse; throws on malformed input. */
export function parseOcspResponse(der: Uint8Array): { status: string; basic?: BasicOCSPResponse } {
  let response: OCSPResponse;
  try {
    response = AsnConvert.parse(der, OCSPResponse);
  } catch (cause) {
    throw new PortcullisError('ERR_REVOCATION_UNKNOWN', `malformed OCSP response: ${(cause as Error).message}`, {
      cause,
    });
  }
  const status = OCSPResponseStatus[response.responseStatus] ?? `status ${response.responseStatus}`;
  if (response.responseStatus !== OCSPResponseStatus.successful) return { status };
  const bytes = response.responseBytes;
  if (bytes === undefined)
    throw new PortcullisError('ERR_REVOCATION_UNKNOWN', 'successful OCSP response without responseBytes');
  if (bytes.responseType !== id_pkix_ocsp_basic) {
    throw new PortcullisError('ERR_REVOCATION_UNKNOWN', `unsupported OCSP response type ${bytes.responseType}`);
  }
  try {
    return { status, basic: AsnConvert.parse(bytes.response.buffer, BasicOCSPResponse) };
  } catch (cause) {
    throw new PortcullisError('ERR_REVOCATION_UNKNOWN', `malformed BasicOCSPResponse: ${(cause as Error).message}`, {
      cause,
    });
  }
}

function validAt(cert: Certificate, at: Date, skewMs: number): boolean {
  return cert.notBefore.getTime() - skewMs <= at.getTime() && at.getTime() <= cert.notAfter.getTime() + skewMs;
}

/**
 * Finds who signed the response: the issuer, or a certificate embedded in the response that the
 * issuer issued for OCSP signing (EKU id-kp-OCSPSigning). A delegated responder certificate
 * without id-pkix-ocsp-nocheck should itself be checked for revocation (RFC 6960 §4.2.2.2.1);
 * like notation-core-go (Go's x/crypto/ocsp) Portcullis accepts it without that check.
 */
function verifyResponder(
  basic: BasicOCSPResponse,
  issuer: Certificate,
  at: Date,
  skewMs: number,
  cache: CertificateCache | undefined,
): { signer: 'issuer' | 'delegated' } | { error: string } {
  const tbs = new Uint8Array(basic.tbsResponseDataRaw ?? AsnConvert.serialize(basic.tbsResponseData));
  const signature = new Uint8Array(basic.signature);
  const byIssuer = verifySignedData(tbs, basic.signatureAlgorithm, signature, issuer.publicKey);
  if (byIssuer.ok) return { signer: 'issuer' };
  const reasons: string[] = [`not signed by the issuer (${byIssuer.reason})`];
  for (const asn of basic.certs ?? []) {
    let responder: Certificate;
    try {
      responder = certificateFrom(new Uint8Array(AsnConvert.serialize(asn)), cache);
    } catch (error) {
      reasons.push(`embedded certificate cannot be parsed: ${(error as Error).message}`);
      continue;
    }
    const who = `responder certificate "${responder.subject}"`;
    if (!isIssuedBy(responder, issuer)) {
      reasons.push(`${who} is not issued by the certificate's issuer`);
      continue;
    }
    if (!(responder.extendedKeyUsage?.oids.includes(EKU.ocspSigning) ?? false)) {
      reasons.push(`${who} lacks extended key usage id-kp-OCSPSigning`);
      continue;
    }
    if (responder.keyUsage !== undefined && (responder.keyUsage.flags & KEY_USAGE.digitalSignature) === 0) {
      reasons.push(`${who} lacks key usage digitalSignature`);
      continue;
    }
    if (!validAt(responder, at, skewMs)) {
      reasons.push(`${who} is not valid at ${at.toISOString()}`);
      continue;
    }
    const byDelegate = verifySignedData(tbs, basic.signatureAlgorithm, signature, responder.publicKey);
    if (byDelegate.ok) return { signer: 'delegated' };
    reasons.push(`not signed by ${who} (${byDelegate.reason})`);
  }
  return { error: `OCSP response signature cannot be verified: ${reasons.join('; ')}` };
}

function extensionValue(extensions: readonly Extension[] | undefined, oid: string): Uint8Array | undefined {
  const ext = extensions?.find((e) => e.extnID === oid);
  return ext === undefined ? undefined : new Uint8Array(ext.extnValue.buffer);
}

function nonceMatches(value: Uint8Array, nonce: Uint8Array): boolean {
  // RFC 8954 wraps the nonce in an OCTET STRING; some responders put it in unwrapped.
  if (bytesEqual(value, nonce)) return true;
  try {
    return bytesEqual(new Uint8Array(AsnConvert.parse(value, OctetString).buffer), nonce);
  } catch {
    return false;
  }
}

/**
 * Decides what an OCSP response says about `cert` at `at`:
 * responseStatus successful; signature by the issuer or a delegated responder; a SingleResponse
 * whose CertID matches (issuer name/key hashes with the response's hash algorithm, serial);
 * thisUpdate ≤ at + skew; nextUpdate, when present, after `at` (else stale); the nonce, if one was
 * sent and echoed. Anything that makes the response unusable is `invalid` with the cause.
 */
export function evaluateOcspResponse(der: Uint8Array, input: OcspCheckInput): OcspOutcome {
  const { cert, issuer, at } = input;
  const skewMs = input.skewMs ?? DEFAULT_SKEW_MS;
  let parsed: ReturnType<typeof parseOcspResponse>;
  try {
    parsed = parseOcspResponse(der);
  } catch (error) {
    return invalid((error as Error).message);
  }
  const { basic } = parsed;
  if (basic === undefined) return invalid(`OCSP responder answered ${parsed.status}`);

  const responder = verifyResponder(basic, issuer, at, skewMs, input.certificateCache);
  if ('error' in responder) return invalid(responder.error);

  const data = basic.tbsResponseData;
  if (input.nonce !== undefined) {
    const echoed = extensionValue(data.responseExtensions, id_pkix_ocsp_nonce);
    if (echoed === undefined && input.requireNonce === true)
      return invalid('OCSP response does not echo the request nonce');
    if (echoed !== undefined && !nonceMatches(echoed, input.nonce))
      return invalid('OCSP response nonce does not match the request nonce');
  }

  const serial = normalizeSerial(serialBytes(cert));
  const keyBits = publicKeyBits(issuer);
  const single = data.responses.find((r) => {
    const alg = HASH_OIDS[r.certID.hashAlgorithm.algorithm];
    if (alg === undefined) return false;
    return (
      normalizeSerial(new Uint8Array(r.certID.serialNumber)) === serial &&
      bytesEqual(new Uint8Array(r.certID.issuerNameHash.buffer), hash(alg, cert.issuerDer)) &&
      bytesEqual(new Uint8Array(r.certID.issuerKeyHash.buffer), hash(alg, keyBits))
    );
  });
  if (single === undefined)
    return invalid('OCSP response does not contain a status for this certificate (CertID mismatch)');

  const { thisUpdate, nextUpdate } = single;
  const times = { thisUpdate, ...(nextUpdate === undefined ? {} : { nextUpdate }) };
  if (thisUpdate.getTime() > at.getTime() + skewMs) {
    return {
      ...invalid(`OCSP response is not yet valid: thisUpdate ${thisUpdate.toISOString()} is after ${at.toISOString()}`),
      ...times,
    };
  }
  if (nextUpdate !== undefined && nextUpdate.getTime() <= at.getTime()) {
    return {
      ...invalid(`stale OCSP response: nextUpdate ${nextUpdate.toISOString()} is not after ${at.toISOString()}`),
      ...times,
    };
  }
  const signer = responder.signer;
  const status = single.certStatus;
  if (status.good !== undefined) return { status: 'good', detail: 'OCSP status good', signer, ...times };
  if (status.revoked !== undefined) {
    const revokedAt = status.revoked.revocationTime;
    const reason =
      status.revoked.revocationReason === undefined ? undefined : reasonName(status.revoked.revocationReason.reason);
    return {
      status: 'revoked',
      detail: `revoked at ${revokedAt.toISOString()}${reason === undefined ? '' : `, reason ${reason}`}`,
      revokedAt,
      ...(reason === undefined ? {} : { reason }),
      signer,
      ...times,
    };
  }
  return { status: 'unknown', detail: 'OCSP responder answered status unknown', signer, ...times };
}

/** The URL of an OCSP GET request (RFC 6960 appendix A.1): base URL + "/" + url-encoded base64 DER. */
export function ocspGetUrl(base: string, requestDer: Uint8Array): string {
  const encoded = encodeURIComponent(Buffer.from(requestDer).toString('base64'));
  return base.endsWith('/') ? `${base}${encoded}` : `${base}/${encoded}`;
}
