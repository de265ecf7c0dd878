import { PortcullisError } from '../errors/index.js';
import type { Certificate, CertificateCache } from './certificate.js';
import { goQuote } from './go-quote.js';
import { checkIssuedBy, ownSignatureError } from './issuance.js';
import {
  validateCaCertificate,
  validateCertificateSignatureAlgorithm,
  validateLeafCertificate,
  type CertificatePurpose,
} from './requirements.js';

/**
 * The most certificates a chain may hold. The Notary spec sets no bound; real code-signing and
 * TSA chains have 2–4 certificates. Bounding the length keeps the per-certificate signature
 * checks from being a cost an attacker controls.
 */
export const MAX_CHAIN_LENGTH = 10;

function invalid(message: string): never {
  throw new PortcullisError('ERR_CHAIN_INVALID', message);
}

/**
 * Validates the shape of an ordered certificate chain (leaf first) and the Notary certificate
 * requirements of every certificate, as notation-core-go's ValidateCodeSigningCertChain /
 * ValidateTimestampingCertChain do (signature-specification.md § Certificate Requirements).
 * Validity periods are not checked here (see validity.ts). Structure failures throw
 * ERR_CHAIN_INVALID; requirement failures (including SHA-1 signatures and key sizes)
 * ERR_CERT_REQUIREMENTS. Checks run certificate by certificate in notation's order, so the
 * first failure reported is the one notation reports.
 */
export function validateCertificateChain(
  chain: readonly Certificate[],
  purpose: CertificatePurpose,
  cache?: CertificateCache,
): void {
  // Everything checked here depends on the certificates' bytes and the purpose only (no time),
  // so a chain that passed once passes again: remembered by the caller's cache. Failures are not
  // remembered (they cost at most MAX_CHAIN_LENGTH certificates' checks, and carry messages).
  const key =
    cache === undefined || chain.length < 1 || chain.length > MAX_CHAIN_LENGTH
      ? undefined
      : `${purpose}:${chain.map((c) => c.sha256).join(',')}`;
  if (key !== undefined && cache?.isValidChain(key) === true) return;
  checkChain(chain, purpose);
  if (key !== undefined) cache?.rememberValidChain(key);
}

function checkChain(chain: readonly Certificate[], purpose: CertificatePurpose): void {
  if (chain.length < 1) invalid('certificate chain must contain at least one certificate');
  if (chain.length > MAX_CHAIN_LENGTH) {
    invalid(`certificate chain has ${chain.length} certificates; at most ${MAX_CHAIN_LENGTH} are allowed`);
  }
  if (chain.length === 1) {
    validateSelfSignedLeaf(chain[0] as Certificate, purpose);
    return;
  }
  const last = chain.length - 1;
  chain.forEach((cert, i) => {
    validateCertificateSignatureAlgorithm(cert);
    const subject = goQuote(cert.subject);
    if (i === last) {
      // The chain must end in a self-signed root (CheckSignatureFrom itself + names equal).
      const self = checkIssuedBy(cert, cert);
      if (self.error !== undefined) {
        invalid(
          `root certificate with subject ${subject} is invalid or not self-signed. Certificate chain must end with a valid self-signed root certificate. Error: ${self.error}`,
        );
      }
      if (!self.issued) {
        invalid(
          `root certificate with subject ${subject} is not self-signed. Certificate chain must end with a valid self-signed root certificate`,
        );
      }
    } else {
      // A self-signed certificate before the end means an extra root or a self-signed leaf.
      const self = checkIssuedBy(cert, cert);
      if (self.error === undefined && self.issued) {
        if (i === 0) {
          invalid(
            `leaf certificate with subject ${subject} is self-signed. Certificate chain must not contain self-signed leaf certificate`,
          );
        }
        invalid(
          `intermediate certificate with subject ${subject} is self-signed. Certificate chain must not contain self-signed intermediate certificate`,
        );
      }
      const parent = chain[i + 1] as Certificate;
      const parentSubject = goQuote(parent.subject);
      const issued = checkIssuedBy(cert, parent);
      if (issued.error !== undefined) {
        invalid(
          `invalid certificates or certificate with subject ${subject} is not issued by ${parentSubject}. Error: ${issued.error}`,
        );
      }
      if (!issued.issued) invalid(`certificate with subject ${subject} is not issued by ${parentSubject}`);
    }
    if (i === 0) validateLeafCertificate(cert, purpose);
    else validateCaCertificate(cert, i - 1, purpose);
  });
}

// A one-certificate chain is a self-signed signing certificate (not a CA): it must verify with
// its own key, be self-issued, and meet the leaf rules.
function validateSelfSignedLeaf(cert: Certificate, purpose: CertificatePurpose): void {
  validateCertificateSignatureAlgorithm(cert);
  const subject = goQuote(cert.subject);
  const error = ownSignatureError(cert);
  if (error !== undefined) invalid(`invalid self-signed certificate. subject: ${subject}. Error: ${error}`);
  if (!cert.selfIssued) {
    invalid(
      `invalid self-signed certificate. subject: ${subject}. Error: issuer(${cert.issuer}) and subject(${cert.subject}) are not the same`,
    );
  }
  try {
    validateLeafCertificate(cert, purpose);
  } catch (cause) {
    if (!(cause instanceof PortcullisError)) throw cause;
    throw new PortcullisError(cause.code, `invalid self-signed certificate. Error: ${cause.message}`, { cause });
  }
}
