import { AsnConvert } from '@peculiar/asn1-schema';
import { Name } from '@peculiar/asn1-x509';
import type { Certificate } from '../x509/index.js';
import { parseCrl, type ParsedCrl } from './crl.js';
import { normalizeSerial, parseOcspResponse, serialBytes } from './ocsp.js';

/**
 * Revocation material an operator supplies ahead of time — CRLs and OCSP responses as files,
 * for clusters and machines that cannot reach the CA's responders (air-gapped). The checker
 * consults it before any fetch and judges it exactly as it judges fetched answers: the issuer's
 * signature, thisUpdate/nextUpdate (a stale CRL or response gives no answer, so "unknown" unless
 * something else answers), critical extensions, delta CRLs. Nothing here is trusted for being
 * local: only a signature by the certificate's issuer makes an answer.
 *
 * Matching: a CRL is offered for the certificates of the CA named as its issuer (a partitioned
 * CRL only for certificates that list one of its distribution points); an OCSP response for the
 * certificates whose serial number it answers (the CertID is checked in full when it is used).
 */

/** One item as supplied: its bytes and where it came from (a file path, a ConfigMap key). */
export interface MaterialItem {
  readonly origin: string;
  readonly bytes: Uint8Array;
}

export interface PreloadedCrl {
  readonly origin: string;
  readonly crl: ParsedCrl;
}

export interface PreloadedOcsp {
  readonly origin: string;
  readonly der: Uint8Array;
}

const PEM_CRL = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/g;

/** DER CRLs in the bytes: PEM "X509 CRL" blocks (any number), else the bytes as one DER CRL. */
function crlDers(bytes: Uint8Array): Uint8Array[] {
  const text = Buffer.from(bytes).toString('latin1');
  if (text.includes('-----BEGIN X509 CRL-----')) {
    return [...text.matchAll(PEM_CRL)].map(
      (m) => new Uint8Array(Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64')),
    );
  }
  return [bytes];
}

function nameKey(der: Uint8Array): string {
  try {
    return Buffer.from(AsnConvert.serialize(AsnConvert.parse(der, Name))).toString('hex');
  } catch {
    return Buffer.from(der).toString('hex');
  }
}

/** The distribution point URIs a CRL says it covers (issuingDistributionPoint), or undefined for a full CRL. */
function partitionUrls(crl: ParsedCrl): readonly string[] | undefined {
  const dp = crl.issuingDistributionPoint?.distributionPoint;
  if (dp === undefined) return undefined;
  return (dp.fullName ?? []).flatMap((gn) =>
    gn.uniformResourceIdentifier === undefined ? [] : [gn.uniformResourceIdentifier],
  );
}

export class RevocationMaterial {
  /** Items that could not be read, with why (reported by whoever loaded them). */
  readonly problems: readonly string[];
  readonly #crls = new Map<string, PreloadedCrl[]>();
  readonly #ocsp = new Map<string, PreloadedOcsp[]>();
  readonly size: { readonly crls: number; readonly ocspResponses: number };

  constructor(items: {
    readonly crls?: readonly MaterialItem[];
    readonly ocspResponses?: readonly MaterialItem[];
    /** Problems found before parsing (unreadable files), kept with the parsing ones. */
    readonly problems?: readonly string[];
  }) {
    const problems: string[] = [...(items.problems ?? [])];
    let crls = 0;
    let responses = 0;
    for (const item of items.crls ?? []) {
      const ders = crlDers(item.bytes);
      if (ders.length === 0) problems.push(`${item.origin}: no CRL in the file`);
      ders.forEach((der, i) => {
        const origin = ders.length > 1 ? `${item.origin}#${i + 1}` : item.origin;
        try {
          const crl = parseCrl(der);
          const key = nameKey(crl.issuerDer);
          const list = this.#crls.get(key) ?? [];
          list.push({ origin, crl });
          this.#crls.set(key, list);
          crls++;
        } catch (error) {
          problems.push(`${origin}: ${(error as Error).message}`);
        }
      });
    }
    for (const item of items.ocspResponses ?? []) {
      try {
        const { status, basic } = parseOcspResponse(item.bytes);
        if (basic === undefined) {
          problems.push(`${item.origin}: the OCSP response is "${status}", not a successful response`);
          continue;
        }
        for (const single of basic.tbsResponseData.responses) {
          const serial = normalizeSerial(new Uint8Array(single.certID.serialNumber));
          const list = this.#ocsp.get(serial) ?? [];
          if (!list.some((p) => p.origin === item.origin)) list.push({ origin: item.origin, der: item.bytes });
          this.#ocsp.set(serial, list);
        }
        responses++;
      } catch (error) {
        problems.push(`${item.origin}: ${(error as Error).message}`);
      }
    }
    this.problems = problems;
    this.size = { crls, ocspResponses: responses };
  }

  static readonly EMPTY = new RevocationMaterial({});

  /** The material of every part together (a directory's and referenced Secrets' and ConfigMaps'). */
  static union(parts: readonly RevocationMaterial[]): RevocationMaterial {
    const nonEmpty = parts.filter((p) => !p.empty || p.problems.length > 0);
    if (nonEmpty.length === 0) return RevocationMaterial.EMPTY;
    if (nonEmpty.length === 1) return nonEmpty[0] as RevocationMaterial;
    const out = new RevocationMaterial({ problems: nonEmpty.flatMap((p) => p.problems) });
    let crls = 0;
    let ocspResponses = 0;
    for (const part of nonEmpty) {
      for (const [key, list] of part.#crls) out.#crls.set(key, [...(out.#crls.get(key) ?? []), ...list]);
      for (const [key, list] of part.#ocsp) out.#ocsp.set(key, [...(out.#ocsp.get(key) ?? []), ...list]);
      crls += part.size.crls;
      ocspResponses += part.size.ocspResponses;
    }
    (out as { size: RevocationMaterial['size'] }).size = { crls, ocspResponses };
    return out;
  }

  get empty(): boolean {
    return this.size.crls === 0 && this.size.ocspResponses === 0;
  }

  /** OCSP responses that answer for the certificate's serial number (newest-first is not assumed: each is judged). */
  ocspResponsesFor(cert: Certificate): readonly PreloadedOcsp[] {
    return this.#ocsp.get(normalizeSerial(serialBytes(cert))) ?? [];
  }

  /**
   * Complete CRLs (not deltas) issued under the issuer's name that cover the certificate, newest
   * (highest CRL number, then latest thisUpdate) first.
   */
  crlsFor(cert: Certificate, issuer: Certificate): readonly PreloadedCrl[] {
    return this.#byIssuer(issuer)
      .filter(({ crl }) => crl.deltaBase === undefined)
      .filter(({ crl }) => {
        const urls = partitionUrls(crl);
        return urls === undefined || urls.some((u) => cert.crlUrls.includes(u));
      })
      .sort(newestFirst);
  }

  /** Delta CRLs issued under the issuer's name, newest first. */
  deltaCrlsFor(issuer: Certificate): readonly PreloadedCrl[] {
    return this.#byIssuer(issuer)
      .filter(({ crl }) => crl.deltaBase !== undefined)
      .sort(newestFirst);
  }

  #byIssuer(issuer: Certificate): PreloadedCrl[] {
    return [...(this.#crls.get(nameKey(issuer.subjectDer)) ?? [])];
  }
}

function newestFirst(a: PreloadedCrl, b: PreloadedCrl): number {
  const an = a.crl.crlNumber ?? -1n;
  const bn = b.crl.crlNumber ?? -1n;
  if (an !== bn) return an > bn ? -1 : 1;
  return b.crl.thisUpdate.getTime() - a.crl.thisUpdate.getTime();
}
