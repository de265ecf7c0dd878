import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXT, Pki, codeSigningChain, type Issued, type KeyAlg } from '../../test/helpers/pki.js';
import { parseCertificate, parseCertificateFile, type Certificate } from './certificate.js';
import { MAX_CHAIN_LENGTH, validateCertificateChain } from './chain.js';
import { expectFailure } from '../../test/helpers/errors.js';

const VECTORS = path.resolve(import.meta.dirname, '../../../shared/vectors');
const X509 = path.join(VECTORS, 'notation-core-go/x509');

function load(file: string): Certificate {
  const certs = parseCertificateFile(readFileSync(path.join(X509, file)));
  expect(certs).toHaveLength(1);
  return certs[0] as Certificate;
}
const req = (name: string): Certificate => load(`cert-requirements/${name}.pem`);

/** Runs `fn`, expecting a PortcullisError with `code` whose message contains `part`. */

describe('certificate chain: notation-core-go code-signing vectors (C3)', () => {
  const root = req('rootCert');
  const int1 = req('intermediateCert1');
  const int2 = req('intermediateCert2');
  const leaf = req('codeSigningLeaf');

  it('accepts leaf → intermediate2 → intermediate1 → root (C3-1)', () => {
    expect(() => validateCertificateChain([leaf, int2, int1, root], 'codeSigning')).not.toThrow();
  });

  it('accepts a self-signed, self-issued non-CA signing certificate alone (C3-2)', () => {
    expect(() => validateCertificateChain([load('openssl-minimum-self-signed.pem')], 'codeSigning')).not.toThrow();
  });

  it('rejects a single certificate that is not self-signed (C3-3)', () => {
    expectFailure(
      () => validateCertificateChain([leaf], 'codeSigning'),
      'ERR_CHAIN_INVALID',
      'invalid self-signed certificate. subject: "CN=CodeSigningLeaf". Error: crypto/rsa: verification error',
    );
  });

  it('rejects a chain whose last certificate is not a self-signed root (C3-4)', () => {
    expectFailure(
      () => validateCertificateChain([leaf, int2, int1], 'codeSigning'),
      'ERR_CHAIN_INVALID',
      'root certificate with subject "CN=Intermediate1" is invalid or not self-signed',
    );
  });

  it('rejects an unrelated certificate in the middle (C3-5)', () => {
    expectFailure(
      () => validateCertificateChain([leaf, req('unrelatedCert'), int1, root], 'codeSigning'),
      'ERR_CHAIN_INVALID',
      'invalid certificates or certificate with subject "CN=CodeSigningLeaf" is not issued by "CN=Hello". Error: x509: invalid signature: parent certificate cannot sign this kind of certificate',
    );
  });

  it('rejects a self-signed leaf in a multi-certificate chain (C3-6)', () => {
    expectFailure(
      () => validateCertificateChain([root, root, root], 'codeSigning'),
      'ERR_CHAIN_INVALID',
      'leaf certificate with subject "CN=Root" is self-signed. Certificate chain must not contain self-signed leaf certificate',
    );
  });

  it('rejects an intermediate whose path length is too small for the CAs below it (C3-7)', () => {
    const chain = [req('codeSigningLeafInvalidPathLen'), req('intermediateCertInvalidPathLen'), int2, int1, root];
    expectFailure(
      () => validateCertificateChain(chain, 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      'certificate with subject "CN=Intermediate2": expected path length of 1 but certificate has path length 0 instead',
    );
  });

  it('rejects a chain whose certificates are given root first', () => {
    expectFailure(() => validateCertificateChain([root, int1, int2, leaf], 'codeSigning'), 'ERR_CHAIN_INVALID');
  });
});

describe('certificate chain: notation-core-go time-stamping vectors (C4)', () => {
  const tsLeaf = load('timestamp_leaf.crt');
  const tsInt = load('timestamp_intermediate.crt');
  const tsRoot = load('timestamp_root.crt');
  const digicertLeaf = '"CN=DigiCert Timestamp 2023,O=DigiCert\\\\, Inc.,C=US"';

  it('accepts the DigiCert time-stamping chain', () => {
    expect(() => validateCertificateChain([tsLeaf, tsInt, tsRoot], 'timestamping')).not.toThrow();
  });

  it('rejects an empty chain', () => {
    expectFailure(
      () => validateCertificateChain([], 'timestamping'),
      'ERR_CHAIN_INVALID',
      'certificate chain must contain at least one certificate',
    );
    expectFailure(() => validateCertificateChain([], 'codeSigning'), 'ERR_CHAIN_INVALID');
  });

  it('rejects a leaf followed by CAs that did not issue it, quoting the subject as Go does', () => {
    expectFailure(
      () =>
        validateCertificateChain(
          [tsLeaf, req('intermediateCert2'), req('intermediateCert1'), req('rootCert')],
          'timestamping',
        ),
      'ERR_CHAIN_INVALID',
      `invalid certificates or certificate with subject ${digicertLeaf} is not issued by "CN=Intermediate2". Error: crypto/rsa: verification error`,
    );
  });

  it('rejects the time-stamping leaf alone', () => {
    expectFailure(
      () => validateCertificateChain([tsLeaf], 'timestamping'),
      'ERR_CHAIN_INVALID',
      `invalid self-signed certificate. subject: ${digicertLeaf}. Error: crypto/rsa: verification error`,
    );
  });

  it('rejects a chain without its root', () => {
    expectFailure(
      () => validateCertificateChain([tsLeaf, tsInt], 'timestamping'),
      'ERR_CHAIN_INVALID',
      'root certificate with subject "CN=DigiCert Trusted G4 RSA4096 SHA256 TimeStamping CA,O=DigiCert\\\\, Inc.,C=US" is invalid or not self-signed.',
    );
  });

  it('rejects a self-signed leaf and a duplicated root', () => {
    const rootSubject = '"CN=DigiCert Trusted Root G4,OU=www.digicert.com,O=DigiCert Inc,C=US"';
    expectFailure(
      () => validateCertificateChain([tsRoot, tsRoot], 'timestamping'),
      'ERR_CHAIN_INVALID',
      `leaf certificate with subject ${rootSubject} is self-signed.`,
    );
    expectFailure(
      () => validateCertificateChain([tsLeaf, tsInt, tsRoot, tsRoot], 'timestamping'),
      'ERR_CHAIN_INVALID',
      `intermediate certificate with subject ${rootSubject} is self-signed. Certificate chain must not contain self-signed intermediate certificate`,
    );
  });

  it('rejects the time-stamping chain as a code-signing chain (timeStamping EKU on the leaf)', () => {
    expectFailure(
      () => validateCertificateChain([tsLeaf, tsInt, tsRoot], 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      'extended key usage must not contain Timestamping eku',
    );
  });
});

describe('certificate chain: generated PKIs', () => {
  const pki = new Pki();
  afterAll(() => pki.cleanup());
  const parse = (i: Issued): Certificate => parseCertificate(i.certDer);
  const chainOf = (...issued: Issued[]): Certificate[] => issued.map(parse);

  let root: Issued;
  let intermediate: Issued;
  let leaf: Issued;
  beforeAll(() => {
    ({ root, intermediate, leaf } = codeSigningChain(pki, { leafKey: 'ec-256' }));
  });

  const leafKeys: KeyAlg[] = ['ec-256', 'ec-384', 'ec-521', 'rsa-2048', 'rsa-3072', 'rsa-4096'];
  it.each(leafKeys)('accepts root → intermediate → leaf with a %s leaf key', (leafKey) => {
    const chain = pki.issue({
      subject: `/CN=leaf ${leafKey}`,
      key: leafKey,
      issuer: intermediate,
      extensions: EXT.codeSigningLeaf,
    });
    expect(() => validateCertificateChain(chainOf(chain, intermediate, root), 'codeSigning')).not.toThrow();
  });

  it('accepts a 2-level chain (leaf issued by the root)', () => {
    const direct = pki.issue({ subject: '/CN=direct leaf', issuer: root, extensions: EXT.codeSigningLeaf });
    expect(() => validateCertificateChain(chainOf(direct, root), 'codeSigning')).not.toThrow();
  });

  it('accepts a 4-level chain when path lengths allow it', () => {
    const upper = pki.issue({
      subject: '/CN=upper CA',
      issuer: root,
      extensions: ['basicConstraints=critical,CA:TRUE,pathlen:1', 'keyUsage=critical,keyCertSign'],
    });
    const lower = pki.issue({ subject: '/CN=lower CA', issuer: upper, extensions: EXT.intermediate });
    const deep = pki.issue({ subject: '/CN=deep leaf', issuer: lower, extensions: EXT.codeSigningLeaf });
    expect(() => validateCertificateChain(chainOf(deep, lower, upper, root), 'codeSigning')).not.toThrow();
  });

  it('rejects an intermediate whose pathlen is too small', () => {
    const upper = pki.issue({ subject: '/CN=pathlen0 upper', issuer: root, extensions: EXT.intermediate });
    const lower = pki.issue({ subject: '/CN=pathlen0 lower', issuer: upper, extensions: EXT.intermediate });
    const deep = pki.issue({ subject: '/CN=too deep', issuer: lower, extensions: EXT.codeSigningLeaf });
    expectFailure(
      () => validateCertificateChain(chainOf(deep, lower, upper, root), 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      'certificate with subject "CN=pathlen0 upper": expected path length of 1 but certificate has path length 0 instead',
    );
  });

  it('rejects the chain in the wrong order', () => {
    expectFailure(
      () => validateCertificateChain(chainOf(intermediate, leaf, root), 'codeSigning'),
      'ERR_CHAIN_INVALID',
    );
  });

  it('rejects a chain without its root', () => {
    expectFailure(
      () => validateCertificateChain(chainOf(leaf, intermediate), 'codeSigning'),
      'ERR_CHAIN_INVALID',
      'root certificate with subject "CN=Portcullis Test Intermediate,O=Portcullis Test,ST=WA,C=US" is invalid or not self-signed',
    );
  });

  it('rejects an unrelated CA in the middle', () => {
    const other = codeSigningChain(pki, { name: 'Other', leafKey: 'ec-256' });
    expectFailure(
      () => validateCertificateChain(chainOf(leaf, other.intermediate, root), 'codeSigning'),
      'ERR_CHAIN_INVALID',
      'is not issued by "CN=Other Intermediate,O=Other,ST=WA,C=US"',
    );
  });

  it('rejects a CA with the right name but a different key (signature check, not names only)', () => {
    const impostor = pki.issue({
      subject: '/C=US/ST=WA/O=Portcullis Test/CN=Portcullis Test Intermediate',
      issuer: root,
      extensions: EXT.intermediate,
    });
    expectFailure(
      () => validateCertificateChain(chainOf(leaf, impostor, root), 'codeSigning'),
      'ERR_CHAIN_INVALID',
      'x509: ECDSA verification failure',
    );
  });

  it('rejects a duplicated root', () => {
    expectFailure(
      () => validateCertificateChain(chainOf(leaf, intermediate, root, root), 'codeSigning'),
      'ERR_CHAIN_INVALID',
      'intermediate certificate with subject "CN=Portcullis Test Root,O=Portcullis Test,ST=WA,C=US" is self-signed',
    );
  });

  it('rejects a leaf with keyEncipherment', () => {
    const bad = pki.issue({
      subject: '/CN=encipher',
      issuer: intermediate,
      extensions: ['keyUsage=critical,digitalSignature,keyEncipherment'],
    });
    expectFailure(
      () => validateCertificateChain(chainOf(bad, intermediate, root), 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      'The key usage must be "Digital Signature" only, but found "KeyEncipherment"',
    );
  });

  // The specification rejects it; notation-go accepts it. A leaf valid "for any purpose" is a
  // TLS or mail certificate as much as a code-signing one (docs/compatibility.md).
  it('rejects a code-signing leaf with anyExtendedKeyUsage, alone or beside codeSigning', () => {
    for (const eku of ['anyExtendedKeyUsage', 'codeSigning,anyExtendedKeyUsage']) {
      const bad = pki.issue({
        subject: '/CN=any',
        issuer: intermediate,
        extensions: ['keyUsage=critical,digitalSignature', `extendedKeyUsage=${eku}`],
      });
      expectFailure(
        () => validateCertificateChain(chainOf(bad, intermediate, root), 'codeSigning'),
        'ERR_CERT_REQUIREMENTS',
        'certificate with subject "CN=any": extended key usage must not contain AnyExtendedKeyUsage eku',
      );
    }
  });

  it('rejects a leaf with the serverAuth EKU', () => {
    const bad = pki.issue({
      subject: '/CN=tls',
      issuer: intermediate,
      extensions: ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=codeSigning,serverAuth'],
    });
    expectFailure(
      () => validateCertificateChain(chainOf(bad, intermediate, root), 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      'certificate with subject "CN=tls": extended key usage must not contain ServerAuth eku',
    );
  });

  it('rejects a leaf with CA:TRUE', () => {
    const bad = pki.issue({
      subject: '/CN=ca leaf',
      issuer: intermediate,
      extensions: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,digitalSignature'],
    });
    expectFailure(
      () => validateCertificateChain(chainOf(bad, intermediate, root), 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      'if the basic constraints extension is present, the ca field must be set to false',
    );
  });

  it.each([
    ['rsa-1024', 'rsa key size 1024 bits is not supported'],
    ['ec-224', 'ecdsa key size 224 bits is not supported'],
  ] as const)('rejects a %s leaf key', (key, message) => {
    const bad = pki.issue({ subject: `/CN=weak ${key}`, key, issuer: intermediate, extensions: EXT.codeSigningLeaf });
    expectFailure(
      () => validateCertificateChain(chainOf(bad, intermediate, root), 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      `certificate with subject "CN=weak ${key}": ${message}`,
    );
  });

  it('rejects an intermediate signed with SHA-1', () => {
    const sha1Intermediate = pki.issue({
      subject: '/CN=sha1 CA',
      issuer: root,
      extensions: EXT.intermediate,
      digest: 'sha1',
    });
    const below = pki.issue({ subject: '/CN=under sha1', issuer: sha1Intermediate, extensions: EXT.codeSigningLeaf });
    expectFailure(
      () => validateCertificateChain(chainOf(below, sha1Intermediate, root), 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      'certificate with subject "CN=sha1 CA" is signed with the insecure algorithm ECDSA-SHA1',
    );
  });

  it('rejects a self-signed RSA certificate signed with SHA-1', () => {
    const sha1Self = pki.issue({
      subject: '/CN=sha1 self',
      key: 'rsa-2048',
      extensions: EXT.selfSignedLeaf,
      digest: 'sha1',
    });
    expectFailure(
      () => validateCertificateChain(chainOf(sha1Self), 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      'insecure algorithm SHA1-RSA',
    );
  });

  it('accepts a certificate signed with RSASSA-PSS over SHA-256', () => {
    const key = pki.generateKey('rsa-2048');
    const keyFile = pki.file('pss.key');
    const cnf = pki.file('pss.cnf');
    // openssl req -x509 with PSS padding and the extensions of a self-signed signing certificate.
    writeFileSync(keyFile, key);
    writeFileSync(
      cnf,
      ['[req]', 'distinguished_name=dn', 'x509_extensions=ext', '[dn]', '[ext]', ...EXT.selfSignedLeaf, ''].join('\n'),
    );
    const der = pki.openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      keyFile,
      '-subj',
      '/CN=pss',
      '-days',
      '1',
      '-config',
      cnf,
      '-sha256',
      '-sigopt',
      'rsa_padding_mode:pss',
      '-sigopt',
      'rsa_pss_saltlen:32',
      '-outform',
      'DER',
    ]);
    const cert = parseCertificate(new Uint8Array(der));
    expect(cert.signatureAlgorithmOid).toBe('1.2.840.113549.1.1.10');
    expect(() => validateCertificateChain([cert], 'codeSigning')).not.toThrow();
  });

  it('rejects a self-signed CA alone (a single certificate must meet the leaf rules)', () => {
    expectFailure(
      () => validateCertificateChain(chainOf(root), 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      'invalid self-signed certificate. Error: certificate with subject "CN=Portcullis Test Root,O=Portcullis Test,ST=WA,C=US": if the basic constraints extension is present, the ca field must be set to false',
    );
  });

  it('accepts a self-signed signing certificate alone, as notation cert generate-test makes it', () => {
    const self = pki.issue({ subject: '/CN=self signer', key: 'rsa-2048', extensions: EXT.selfSignedLeaf });
    expect(() => validateCertificateChain(chainOf(self), 'codeSigning')).not.toThrow();
  });

  it(`rejects a chain longer than ${MAX_CHAIN_LENGTH} certificates quickly and clearly`, () => {
    const one = parse(root);
    const hundred = Array.from({ length: 100 }, () => one);
    const started = performance.now();
    expectFailure(
      () => validateCertificateChain(hundred, 'codeSigning'),
      'ERR_CHAIN_INVALID',
      'certificate chain has 100 certificates; at most 10 are allowed',
    );
    expect(performance.now() - started).toBeLessThan(50);
    expectFailure(
      () =>
        validateCertificateChain(
          Array.from({ length: 11 }, () => one),
          'codeSigning',
        ),
      'ERR_CHAIN_INVALID',
      'at most 10',
    );
  });

  describe('time-stamping chains', () => {
    let tsaCa: Issued;
    beforeAll(() => {
      tsaCa = pki.issue({
        subject: '/CN=TSA CA',
        issuer: root,
        // Time-stamping CAs need keyUsage present, not critical.
        extensions: ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=keyCertSign,cRLSign'],
      });
    });

    it('accepts root → TSA CA (non-critical keyUsage) → TSA leaf', () => {
      const tsa = pki.issue({ subject: '/CN=TSA', key: 'rsa-2048', issuer: tsaCa, extensions: EXT.tsaLeaf });
      expect(() => validateCertificateChain(chainOf(tsa, tsaCa, root), 'timestamping')).not.toThrow();
    });

    it('rejects the same CA in a code-signing chain (keyUsage must be critical)', () => {
      const signer = pki.issue({ subject: '/CN=signer under TSA CA', issuer: tsaCa, extensions: EXT.codeSigningLeaf });
      expectFailure(
        () => validateCertificateChain(chainOf(signer, tsaCa, root), 'codeSigning'),
        'ERR_CERT_REQUIREMENTS',
        'certificate with subject "CN=TSA CA": key usage extension must be marked critical',
      );
    });

    it('rejects a TSA leaf whose timeStamping EKU is not critical', () => {
      const tsa = pki.issue({
        subject: '/CN=TSA noncritical',
        issuer: tsaCa,
        extensions: [
          'basicConstraints=CA:FALSE',
          'keyUsage=critical,digitalSignature',
          'extendedKeyUsage=timeStamping',
        ],
      });
      expectFailure(
        () => validateCertificateChain(chainOf(tsa, tsaCa, root), 'timestamping'),
        'ERR_CERT_REQUIREMENTS',
        'timestamp signing certificate with subject "CN=TSA noncritical" must have extended key usage extension marked as critical',
      );
    });

    it('rejects a TSA leaf without the timeStamping EKU', () => {
      const tsa = pki.issue({
        subject: '/CN=TSA no eku',
        issuer: tsaCa,
        extensions: ['keyUsage=critical,digitalSignature'],
      });
      expectFailure(
        () => validateCertificateChain(chainOf(tsa, tsaCa, root), 'timestamping'),
        'ERR_CERT_REQUIREMENTS',
        'must have and only have Timestamping as extended key usage',
      );
    });
  });
});
