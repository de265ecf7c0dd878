import type { DigestAlgorithm } from '../util/index.js';

/** Object identifiers of RFC 3161 timestamp tokens and the CMS structures around them. */
export const OID = {
  /** RFC 5652 §5.1 id-signedData. */
  signedData: '1.2.840.113549.1.7.2',
  /** RFC 5652 §4 id-data (what E7/B16-5 tokens wrongly carry). */
  data: '1.2.840.113549.1.7.1',
  /** RFC 3161 §2.4.2 id-ct-TSTInfo. */
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  /** RFC 5652 §11.1 content-type attribute. */
  contentType: '1.2.840.113549.1.9.3',
  /** RFC 5652 §11.2 message-digest attribute. */
  messageDigest: '1.2.840.113549.1.9.4',
  /** RFC 5652 §11.3 signing-time attribute. */
  signingTime: '1.2.840.113549.1.9.5',
  /** RFC 2634 §5.4 signing-certificate (ESSCertID, SHA-1 only). */
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  /** RFC 5035 §3 signing-certificate-v2 (ESSCertIDv2). */
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  /** RFC 3628 baseline time-stamp policy: accuracy of at least 1 s is implied. */
  baselineTimestampPolicy: '0.4.0.2023.1.1',
} as const;

const DIGESTS: Readonly<Record<string, DigestAlgorithm>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

const DIGEST_OIDS: Readonly<Record<DigestAlgorithm, string>> = {
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
};

/** The SHA-2 digest an OID names, or undefined (SHA-1, MD5 and anything else are refused). */
export function digestForOid(oid: string): DigestAlgorithm | undefined {
  return DIGESTS[oid];
}

export function oidForDigest(digest: DigestAlgorithm): string {
  return DIGEST_OIDS[digest];
}
