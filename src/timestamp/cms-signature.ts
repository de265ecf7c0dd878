import '../x509/reflect-polyfill.js';
import { constants, verify, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { PortcullisError } from '../errors/index.js';
import type { DigestAlgorithm } from '../util/index.js';
import { digestForOid } from './oids.js';
import { RsaPssParams } from './schemas.js';

/**
 * Verifies a CMS SignerInfo signature (RFC 5652 §5.6) with node:crypto: RSA PKCS#1 v1.5,
 * RSASSA-PSS (RFC 4056) and ECDSA with a DER signature (RFC 5753 §2.1.1). Only SHA-2 is
 * accepted; SHA-1 based algorithms are refused (E19).
 */

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const RSASSA_PSS = '1.2.840.113549.1.1.10';
const MGF1 = '1.2.840.113549.1.1.8';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';

/** Algorithms whose OID names the hash; `undefined` hash means "the SignerInfo digestAlgorithm". */
const SIGNATURE_ALGORITHMS: Readonly<Record<string, { kind: 'rsa' | 'ecdsa'; hash: DigestAlgorithm | undefined }>> = {
  [RSA_ENCRYPTION]: { kind: 'rsa', hash: undefined },
  '1.2.840.113549.1.1.11': { kind: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { kind: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { kind: 'rsa', hash: 'sha512' },
  [EC_PUBLIC_KEY]: { kind: 'ecdsa', hash: undefined },
  '1.2.840.10045.4.3.2': { kind: 'ecdsa', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { kind: 'ecdsa', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { kind: 'ecdsa', hash: 'sha512' },
};

export interface CmsSignatureInput {
  readonly signatureAlgorithmOid: string;
  readonly signatureAlgorithmParameters: Uint8Array | undefined;
  /** The SignerInfo digestAlgorithm, already checked to be SHA-2. */
  readonly digestAlgorithm: DigestAlgorithm;
  readonly data: Uint8Array;
  readonly signature: Uint8Array;
  readonly key: KeyObject;
}

function invalid(message: string): PortcullisError {
  return new PortcullisError('ERR_TIMESTAMP_INVALID', message);
}

function pssParameters(der: Uint8Array | undefined): { hash: DigestAlgorithm; saltLength: number } {
  if (der === undefined) throw invalid('RSASSA-PSS signature without parameters');
  let params: RsaPssParams;
  try {
    params = AsnConvert.parse(der, RsaPssParams);
  } catch (cause) {
    throw new PortcullisError(
      'ERR_TIMESTAMP_INVALID',
      `RSASSA-PSS parameters cannot be decoded: ${(cause as Error).message}`,
      { cause },
    );
  }
  // Absent hash / MGF mean SHA-1 (RFC 4055 §3.1), which is refused.
  const hash = params.hashAlgorithm === undefined ? undefined : digestForOid(params.hashAlgorithm.algorithm);
  if (hash === undefined) throw invalid('RSASSA-PSS signature must use a SHA-2 hash');
  const mgf = params.maskGenAlgorithm;
  if (mgf === undefined || mgf.algorithm !== MGF1 || mgf.parameters == null) {
    throw invalid('RSASSA-PSS signature must use MGF1 with the signature hash');
  }
  let mgfHash: DigestAlgorithm | undefined;
  try {
    mgfHash = digestForOid(AsnConvert.parse(mgf.parameters, AlgorithmIdentifier).algorithm);
  } catch {
    mgfHash = undefined;
  }
  if (mgfHash !== hash) throw invalid('RSASSA-PSS MGF1 hash differs from the signature hash');
  if (params.trailerField !== undefined && params.trailerField !== 1)
    throw invalid('RSASSA-PSS trailer field must be 1');
  return { hash, saltLength: params.saltLength ?? 20 };
}

/** True when the signature verifies; throws ERR_TIMESTAMP_INVALID for refused algorithms. */
export function verifyCmsSignature(input: CmsSignatureInput): boolean {
  const keyType = input.key.asymmetricKeyType;
  if (input.signatureAlgorithmOid === RSASSA_PSS) {
    const { hash, saltLength } = pssParameters(input.signatureAlgorithmParameters);
    if (keyType !== 'rsa' && keyType !== 'rsa-pss') throw invalid('RSASSA-PSS signature with a non-RSA key');
    try {
      return verify(
        hash,
        input.data,
        { key: input.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength },
        input.signature,
      );
    } catch {
      return false;
    }
  }
  const alg = SIGNATURE_ALGORITHMS[input.signatureAlgorithmOid];
  if (alg === undefined) {
    throw invalid(`unsupported timestamp signature algorithm ${input.signatureAlgorithmOid}`);
  }
  const hash = alg.hash ?? input.digestAlgorithm;
  if (alg.kind === 'rsa' && keyType !== 'rsa') throw invalid('RSA signature algorithm with a non-RSA key');
  if (alg.kind === 'ecdsa' && keyType !== 'ec') throw invalid('ECDSA signature algorithm with a non-EC key');
  try {
    return alg.kind === 'rsa'
      ? verify(hash, input.data, { key: input.key, padding: constants.RSA_PKCS1_PADDING }, input.signature)
      : verify(hash, input.data, { key: input.key, dsaEncoding: 'der' }, input.signature);
  } catch {
    return false;
  }
}
