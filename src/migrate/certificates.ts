import type { TrustStoreType } from '../policyset/index.js';
import { checkIssuedBy, ownSignatureError, parseCertificateFile, type Certificate } from '../x509/index.js';

/**
 * Picks the certificates of an input that a Notary trust store of the given type accepts, as
 * notation (and so Portcullis, docs/policies.md) checks a store: in `ca` and `signingAuthority`
 * stores a CA or a self-signed certificate, in `tsa` stores a self-signed root CA. Ratify keeps
 * only such certificates of its key management providers and ignores the rest; Portcullis
 * rejects a store holding any other, so the importer leaves them out and says so.
 */

export interface TrustAnchor {
  readonly pem: string;
  readonly sha256: string;
  readonly subject: string;
}

export interface AnchorSelection {
  readonly anchors: readonly TrustAnchor[];
  /** One line per certificate left out (or the parse error), for the notes. */
  readonly problems: readonly string[];
}

export function selectTrustAnchors(text: string, type: TrustStoreType): AnchorSelection {
  let certs: Certificate[];
  try {
    certs = parseCertificateFile(new TextEncoder().encode(text));
  } catch (error) {
    return {
      anchors: [],
      problems: [`not PEM certificates: ${error instanceof Error ? error.message : String(error)}`],
    };
  }
  const anchors: TrustAnchor[] = [];
  const problems: string[] = [];
  for (const cert of certs) {
    const problem = type === 'tsa' ? rootProblem(cert) : anchorProblem(cert);
    if (problem === undefined) anchors.push({ pem: toPem(cert.der), sha256: cert.sha256, subject: cert.subject });
    else problems.push(`certificate "${cert.subject}" left out: ${problem}`);
  }
  return { anchors, problems };
}

function anchorProblem(cert: Certificate): string | undefined {
  if (cert.basicConstraints?.ca === true || ownSignatureError(cert) === undefined) return undefined;
  return 'neither a CA nor self-signed (a Notary trust store holds roots or pinned self-signed certificates; add the root of its chain instead)';
}

function rootProblem(cert: Certificate): string | undefined {
  const self = checkIssuedBy(cert, cert);
  if (self.error !== undefined || !self.issued)
    return 'not a self-signed root CA (a tsa trust store holds timestamping roots)';
  return undefined;
}

function toPem(der: Uint8Array): string {
  const body = Buffer.from(der).toString('base64');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Merges anchor lists, dropping repeats (by SHA-256), keeping the first one's order. */
export function uniqueAnchors(lists: readonly (readonly TrustAnchor[])[]): TrustAnchor[] {
  const seen = new Set<string>();
  const out: TrustAnchor[] = [];
  for (const list of lists) {
    for (const anchor of list) {
      if (seen.has(anchor.sha256)) continue;
      seen.add(anchor.sha256);
      out.push(anchor);
    }
  }
  return out;
}
