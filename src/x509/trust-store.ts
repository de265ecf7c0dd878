import { PortcullisError } from '../errors/index.js';
import { bytesEqual, parseCertificateFile, type Certificate, type CertificateCache } from './certificate.js';
import { goQuote } from './go-quote.js';
import { checkIssuedBy, ownSignatureError } from './issuance.js';

/**
 * The trust store types of the Notary trust policy, declared here (the lowest layer that names
 * them) for the policy, the policy resources and the CLI alike.
 */
export type TrustStoreType = 'ca' | 'signingAuthority' | 'tsa';
export const TRUST_STORE_TYPES: readonly TrustStoreType[] = ['ca', 'signingAuthority', 'tsa'];

export function isTrustStoreType(value: unknown): value is TrustStoreType {
  return typeof value === 'string' && (TRUST_STORE_TYPES as readonly string[]).includes(value);
}

/** One regular file of a named trust store, as read by the caller. */
export interface TrustStoreFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** notation-go (internal/file IsValidFileName): a store name is a portable file name. */
export const TRUST_STORE_NAME = /^[a-zA-Z0-9_.-]+$/;

function invalid(message: string, cause?: unknown): never {
  throw new PortcullisError('ERR_TRUSTSTORE_INVALID', message, cause === undefined ? {} : { cause });
}

/**
 * Parses and validates the certificates of one named trust store (trust-store-trust-policy.md
 * § Trust Store, as notation-go verifier/truststore does it): every file must hold PEM or DER
 * certificates; in `ca` and `signingAuthority` stores each certificate must be a CA or
 * self-signed (pinning a self-signed signing certificate is allowed); in `tsa` stores each must
 * also be a self-signed, self-issued root CA. A store with no certificate is an error.
 * Reading the directory (and refusing symlinks and subdirectories) is the caller's job.
 */
export function buildTrustStore(
  type: TrustStoreType,
  name: string,
  files: readonly TrustStoreFile[],
  cache?: CertificateCache,
): Certificate[] {
  if (!TRUST_STORE_NAME.test(name)) {
    invalid(`trust store name needs to follow [a-zA-Z0-9_.-]+ format, ${name} is invalid`);
  }
  const certificates: Certificate[] = [];
  for (const file of files) {
    let certs: Certificate[];
    try {
      certs = parseCertificateFile(file.bytes, cache);
    } catch (cause) {
      const detail = cause instanceof Error ? `: ${cause.message}` : '';
      invalid(
        `failed to read the trusted certificate ${file.name} in trust store ${name} of type ${type}${detail}`,
        cause,
      );
    }
    for (const cert of certs) {
      const problem = caOrSelfSignedProblem(cert);
      if (problem !== undefined) {
        invalid(
          `failed to validate the trusted certificate ${file.name} in trust store ${name} of type ${type}: ${problem}`,
        );
      }
    }
    if (type === 'tsa') {
      for (const cert of certs) {
        const problem = rootCaProblem(cert);
        if (problem !== undefined) {
          invalid(`trusted certificate ${file.name} in trust store ${name} of type ${type} is invalid: ${problem}`);
        }
      }
    }
    certificates.push(...certs);
  }
  if (certificates.length === 0) {
    invalid(`no x509 certificates were found in trust store ${goQuote(name)} of type ${goQuote(type)}`);
  }
  return certificates;
}

// notation-go ValidateCertificates: a CA (basicConstraints cA=true) or a certificate that
// verifies with its own key.
function caOrSelfSignedProblem(cert: Certificate): string | undefined {
  if (cert.basicConstraints?.ca === true || ownSignatureError(cert) === undefined) return undefined;
  return `certificate with subject ${goQuote(cert.subject)} is not a CA certificate or self-signed signing certificate`;
}

// notation-go isRootCACertificate: CheckSignatureFrom(itself), then self-issued.
function rootCaProblem(cert: Certificate): string | undefined {
  const self = checkIssuedBy(cert, cert);
  const subject = goQuote(cert.subject);
  if (self.error !== undefined)
    return `certificate with subject ${subject} is not a root CA certificate: ${self.error}`;
  if (!self.issued) {
    return `certificate with subject ${subject} is not a root CA certificate: issuer (${cert.issuer}) and subject (${cert.subject}) are not the same`;
  }
  return undefined;
}

/**
 * §15.11: trust is byte-equality of any certificate of the (already validated) chain with any
 * trusted certificate — so a pinned leaf or intermediate also anchors trust. Returns the first
 * chain certificate (leaf first) found in the store, or undefined.
 */
export function chainContainsTrustedCertificate(
  chain: readonly Certificate[],
  trusted: readonly Certificate[],
): Certificate | undefined {
  const digests = new Set(trusted.map((t) => t.sha256));
  return chain.find((cert) => digests.has(cert.sha256) && trusted.some((t) => bytesEqual(t.der, cert.der)));
}
