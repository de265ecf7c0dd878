/** COSE header labels Notary uses (RFC 9052 §3.1, RFC 9360 §2; signature-envelope-cose.md). */
export const COSE_LABEL = {
  alg: 1,
  crit: 2,
  contentType: 3,
  x5chain: 33,
} as const;

/** CBOR tag of COSE_Sign1_Tagged (RFC 9052 §4.2). */
export const COSE_SIGN1_TAG = 18;

/** CBOR tag of an epoch-based date/time (RFC 8949 §3.4.2), the only time form notation accepts. */
export const EPOCH_TIME_TAG = 1;

/** The Sig_structure context string for COSE_Sign1 (RFC 9052 §4.4). */
export const SIGNATURE1_CONTEXT = 'Signature1';
