import './reflect-polyfill.js';
import { LRUCache } from 'lru-cache';
import { X509Certificate as NodeX509, createPublicKey, type KeyObject } from 'node:crypto';
import * as px from '@peculiar/x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate as AsnCertificate } from '@peculiar/asn1-x509';
import { PortcullisError } from '../errors/index.js';
import { sha256Hex } from '../util/index.js';
import { formatName, parseName, type RdnSequence } from './names.js';

/** Key types and sizes; only some are allowed by the Notary spec (see key-spec.ts). */
export interface KeyInfo {
  readonly type: 'RSA' | 'EC' | 'other';
  /** RSA modulus bits, or EC curve size (256, 384, 521); 0 when unknown. */
  readonly size: number;
  /** The node key type string, for messages (`rsa`, `rsa-pss`, `ec`, `ed25519`, …). */
  readonly nodeType: string;
}

export interface BasicConstraints {
  readonly ca: boolean;
  readonly pathLength: number | undefined;
  readonly critical: boolean;
}

export interface KeyUsage {
  /** Bit flags as in RFC 5280 (digitalSignature = 1, … decipherOnly = 256). */
  readonly flags: number;
  readonly critical: boolean;
}

export interface ExtendedKeyUsage {
  readonly oids: readonly string[];
  readonly critical: boolean;
}

export const KEY_USAGE = {
  digitalSignature: 1,
  nonRepudiation: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  keyCertSign: 32,
  cRLSign: 64,
  encipherOnly: 128,
  decipherOnly: 256,
} as const;

export const EKU = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  any: '2.5.29.37.0',
} as const;

/**
 * A parsed X.509 certificate with the fields verification needs, computed once.
 * Instances are immutable and safe to share through a CertificateCache.
 */
export interface Certificate {
  readonly der: Uint8Array;
  /** Lower-case hex SHA-256 of the DER bytes. */
  readonly sha256: string;
  readonly subject: string;
  readonly issuer: string;
  readonly subjectRdns: RdnSequence;
  readonly issuerRdns: RdnSequence;
  /** Raw DER of the subject and issuer names, for byte-exact chaining. */
  readonly subjectDer: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: KeyObject;
  readonly key: KeyInfo;
  readonly signatureAlgorithmOid: string;
  readonly basicConstraints: BasicConstraints | undefined;
  readonly keyUsage: KeyUsage | undefined;
  readonly extendedKeyUsage: ExtendedKeyUsage | undefined;
  /** OCSP responder URLs from Authority Information Access. */
  readonly ocspUrls: readonly string[];
  /** CRL distribution point URLs. */
  readonly crlUrls: readonly string[];
  /** Subject and issuer names are byte-identical. */
  readonly selfIssued: boolean;
  /** The parsed forms, for code that needs more than the summary above. */
  readonly peculiar: px.X509Certificate;
  readonly node: NodeX509;
}

/**
 * True when `issuer`'s key verifies `cert`'s signature and the names chain byte-exactly. With a
 * cache, the answer for the pair (by both certificates' SHA-256) is remembered: it depends on
 * their bytes only.
 */
export function isIssuedBy(cert: Certificate, issuer: Certificate, cache?: CertificateCache): boolean {
  if (!bytesEqual(cert.issuerDer, issuer.subjectDer)) return false;
  if (cache === undefined) return verifiesWith(cert, issuer.publicKey);
  return cache.issuance(cert, issuer, () => verifiesWith(cert, issuer.publicKey));
}

/** True when the certificate's signature verifies with the given key. */
export function verifiesWith(cert: Certificate, key: KeyObject): boolean {
  try {
    return cert.node.verify(key);
  } catch {
    return false;
  }
}

/** Self-signed: self-issued and its own key verifies its signature. */
export function isSelfSigned(cert: Certificate): boolean {
  return cert.selfIssued && verifiesWith(cert, cert.publicKey);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function keyInfo(key: KeyObject): KeyInfo {
  const nodeType = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  if (nodeType === 'rsa' || nodeType === 'rsa-pss') {
    return { type: 'RSA', size: details.modulusLength ?? 0, nodeType };
  }
  if (nodeType === 'ec') {
    const size =
      { prime192v1: 192, secp224r1: 224, prime256v1: 256, secp384r1: 384, secp521r1: 521 }[details.namedCurve ?? ''] ??
      0;
    return { type: 'EC', size, nodeType: `ec(${details.namedCurve ?? '?'})` };
  }
  return { type: 'other', size: 0, nodeType };
}

function generalNameUrls(names: readonly px.GeneralName[]): string[] {
  return names.filter((n) => n.type === 'url').map((n) => n.value);
}

function crlUrlsOf(cert: px.X509Certificate): string[] {
  const ext = cert.getExtension(px.CRLDistributionPointsExtension);
  if (ext === null) return [];
  const urls: string[] = [];
  for (const dp of ext.distributionPoints) {
    for (const gn of dp.distributionPoint?.fullName ?? []) {
      if (gn.uniformResourceIdentifier !== undefined) urls.push(gn.uniformResourceIdentifier);
    }
  }
  return urls;
}

/**
 * Parses one DER certificate. Throws ERR_CERT_MALFORMED with the cause on any decoding error.
 * Pure; use a CertificateCache to avoid re-parsing the same bytes.
 */
export function parseCertificate(der: Uint8Array): Certificate {
  try {
    const peculiar = new px.X509Certificate(der);
    const node = new NodeX509(der);
    const asn = AsnConvert.parse(der, AsnCertificate);
    const tbs = asn.tbsCertificate;
    // RFC 5280 §4.1.2.1: v1, v2 or v3 (encoded 0..2). Anything else is a corrupt certificate.
    if (!(tbs.version >= 0 && tbs.version <= 2)) {
      throw new PortcullisError('ERR_CERT_MALFORMED', `certificate version ${tbs.version + 1} is not v1, v2 or v3`);
    }
    const subjectDer = new Uint8Array(AsnConvert.serialize(tbs.subject));
    const issuerDer = new Uint8Array(AsnConvert.serialize(tbs.issuer));
    const subjectRdns = parseName(subjectDer);
    const issuerRdns = parseName(issuerDer);
    const publicKey = createPublicKey({ key: Buffer.from(peculiar.publicKey.rawData), format: 'der', type: 'spki' });
    const bc = peculiar.getExtension(px.BasicConstraintsExtension);
    const ku = peculiar.getExtension(px.KeyUsagesExtension);
    const eku = peculiar.getExtension(px.ExtendedKeyUsageExtension);
    const aia = peculiar.getExtension(px.AuthorityInfoAccessExtension);
    return {
      der: new Uint8Array(der),
      sha256: sha256Hex(der),
      subject: formatName(subjectRdns),
      issuer: formatName(issuerRdns),
      subjectRdns,
      issuerRdns,
      subjectDer,
      issuerDer,
      serialNumber: peculiar.serialNumber,
      notBefore: peculiar.notBefore,
      notAfter: peculiar.notAfter,
      publicKey,
      key: keyInfo(publicKey),
      signatureAlgorithmOid: asn.signatureAlgorithm.algorithm,
      basicConstraints: bc === null ? undefined : { ca: bc.ca, pathLength: bc.pathLength, critical: bc.critical },
      keyUsage: ku === null ? undefined : { flags: ku.usages, critical: ku.critical },
      extendedKeyUsage: eku === null ? undefined : { oids: Array.from(eku.usages, String), critical: eku.critical },
      ocspUrls: aia === null ? [] : generalNameUrls(aia.ocsp),
      crlUrls: crlUrlsOf(peculiar),
      selfIssued: bytesEqual(subjectDer, issuerDer),
      peculiar,
      node,
    };
  } catch (cause) {
    if (cause instanceof PortcullisError) throw cause;
    throw new PortcullisError('ERR_CERT_MALFORMED', `certificate cannot be parsed: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/**
 * Caches parsed certificates by the SHA-256 of their bytes, so a chain seen in every signature
 * of a busy registry is parsed once; and remembers which chains (by their certificates' SHA-256,
 * leaf first, and the purpose) passed validateCertificateChain, so the same signer's chain costs
 * its certificate signature checks once, not once per signature. Both are time-independent: the
 * validity periods are checked at each verification's own time, outside this cache. Bounded
 * (lru-cache, no TTL: it reads no clock); the least recently used goes first. Owned by the
 * caller (never a module global) so the core stays free of hidden state.
 */
export class CertificateCache {
  readonly #entries: LRUCache<string, Certificate>;
  readonly #validChains: LRUCache<string, true>;
  readonly #issued: LRUCache<string, boolean>;

  /**
   * @param maxEntries parsed certificates kept (each a few KiB with its key objects).
   * @param maxChains validated chains remembered (each a key of about 65 characters per
   *   certificate), and as many certificate pairs' issuance answers (isIssuedBy; a 129-character key each).
   */
  constructor(maxEntries = 1024, maxChains = 1024) {
    this.#entries = new LRUCache({ max: maxEntries });
    this.#validChains = new LRUCache({ max: maxChains });
    this.#issued = new LRUCache({ max: maxChains });
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Validated chains remembered. */
  get chains(): number {
    return this.#validChains.size;
  }

  parse(der: Uint8Array): Certificate {
    const key = sha256Hex(der);
    const hit = this.#entries.get(key);
    if (hit !== undefined) return hit;
    const cert = parseCertificate(der);
    this.#entries.set(key, cert);
    return cert;
  }

  /** True when `validateCertificateChain` passed the chain this key names (chain.ts makes the key). */
  isValidChain(key: string): boolean {
    return this.#validChains.get(key) === true;
  }

  rememberValidChain(key: string): void {
    this.#validChains.set(key, true);
  }

  /** Whether `issuer`'s key verifies `cert`'s signature: `check`'s answer, remembered for the pair. */
  issuance(cert: Certificate, issuer: Certificate, check: () => boolean): boolean {
    const key = `${cert.sha256}>${issuer.sha256}`;
    const known = this.#issued.get(key);
    if (known !== undefined) return known;
    const answer = check();
    this.#issued.set(key, answer);
    return answer;
  }
}

/** Parses with the cache when one is given. */
export function certificateFrom(der: Uint8Array, cache?: CertificateCache): Certificate {
  return cache === undefined ? parseCertificate(der) : cache.parse(der);
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * Reads certificates from a file's bytes: one or more PEM CERTIFICATE blocks, or one or more
 * concatenated DER certificates (notation accepts both). Throws ERR_CERT_MALFORMED when the
 * content holds no certificate or anything unparsable.
 */
export function parseCertificateFile(bytes: Uint8Array, cache?: CertificateCache): Certificate[] {
  const text = Buffer.from(bytes).toString('latin1');
  if (text.includes('-----BEGIN')) {
    const certs: Certificate[] = [];
    for (const m of text.matchAll(PEM_BLOCK)) {
      if (m[1] !== 'CERTIFICATE') continue;
      const body = (m[2] as string).replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) {
        throw new PortcullisError('ERR_CERT_MALFORMED', 'PEM certificate block is not valid base64');
      }
      certs.push(certificateFrom(new Uint8Array(Buffer.from(body, 'base64')), cache));
    }
    if (certs.length === 0) throw new PortcullisError('ERR_CERT_MALFORMED', 'no PEM CERTIFICATE block found');
    return certs;
  }
  return splitDer(bytes).map((der) => certificateFrom(der, cache));
}

// Splits concatenated DER SEQUENCEs by their length headers.
function splitDer(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes[offset] !== 0x30 || offset + 2 > bytes.length) {
      throw new PortcullisError('ERR_CERT_MALFORMED', 'content is neither PEM nor DER certificates');
    }
    let length = bytes[offset + 1] as number;
    let header = 2;
    if (length & 0x80) {
      const n = length & 0x7f;
      if (n === 0 || n > 4 || offset + 2 + n > bytes.length) {
        throw new PortcullisError('ERR_CERT_MALFORMED', 'DER length is invalid');
      }
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + (bytes[offset + 2 + i] as number);
      header += n;
    }
    const end = offset + header + length;
    if (end > bytes.length) throw new PortcullisError('ERR_CERT_MALFORMED', 'DER certificate is truncated');
    out.push(bytes.subarray(offset, end));
    offset = end;
  }
  if (out.length === 0) throw new PortcullisError('ERR_CERT_MALFORMED', 'file is empty');
  return out;
}
