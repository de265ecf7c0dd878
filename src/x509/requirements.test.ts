import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCertificateFile, type Certificate } from './certificate.js';
import { validateCaCertificate, validateLeafCertificate, type CertificatePurpose } from './requirements.js';
import { expectFailure } from '../../test/helpers/errors.js';

const VECTORS = path.resolve(import.meta.dirname, '../../../shared/vectors');
const REQ = path.join(VECTORS, 'notation-core-go/x509/cert-requirements');

function req(name: string): Certificate {
  const certs = parseCertificateFile(readFileSync(path.join(REQ, `${name}.pem`)));
  expect(certs).toHaveLength(1);
  return certs[0] as Certificate;
}

const BOTH: CertificatePurpose[] = ['codeSigning', 'timestamping'];

describe('CA certificate requirements (C3-8 … C3-11)', () => {
  it('accepts a root with pathlen 2 above two intermediates (C3-8)', () => {
    expect(() => validateCaCertificate(req('rootCert'), 2, 'codeSigning')).not.toThrow();
  });

  it('rejects a root with pathlen 2 above three intermediates (C3-8)', () => {
    expectFailure(
      () => validateCaCertificate(req('rootCert'), 3, 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      'certificate with subject "CN=Root": expected path length of 3 but certificate has path length 2 instead',
    );
  });

  it('counts an explicit pathlen of 0', () => {
    expect(() => validateCaCertificate(req('intermediateCert2'), 0, 'codeSigning')).not.toThrow();
    expectFailure(
      () => validateCaCertificate(req('intermediateCert2'), 1, 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      'expected path length of 1 but certificate has path length 0 instead',
    );
  });

  it.each(BOTH)('rejects a CA without basic constraints (C3-9, %s)', (purpose) => {
    expectFailure(
      () => validateCaCertificate(req('noBasicConstraintsCa'), 0, purpose),
      'ERR_CERT_REQUIREMENTS',
      'certificate with subject "CN=Hello": ca field in basic constraints must be present, critical, and set to true',
    );
  });

  it('rejects a code-signing CA whose key usage is not critical (C3-10)', () => {
    expectFailure(
      () => validateCaCertificate(req('kuNotCriticalCertSignCa'), 0, 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      'certificate with subject "CN=Hello": key usage extension must be marked critical',
    );
  });

  it('accepts a time-stamping CA whose key usage is present but not critical', () => {
    expect(() => validateCaCertificate(req('kuNotCriticalCertSignCa'), 0, 'timestamping')).not.toThrow();
  });

  it.each(BOTH)('rejects a CA without key usage (C3-11, %s)', (purpose) => {
    expectFailure(
      () => validateCaCertificate(req('kuMissingCa'), 0, purpose),
      'ERR_CERT_REQUIREMENTS',
      'certificate with subject "CN=Hello": key usage extension must be present',
    );
  });

  it('rejects a leaf used as a CA (no keyCertSign, no cA)', () => {
    expectFailure(
      () => validateCaCertificate(req('codeSigningLeaf'), 0, 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      'ca field in basic constraints must be present, critical, and set to true',
    );
  });
});

describe('leaf certificate requirements (C3-12 … C3-18)', () => {
  it('accepts a leaf with digitalSignature only and no EKU for code signing (C3-12)', () => {
    expect(() => validateLeafCertificate(req('validNoOptionsLeaf'), 'codeSigning')).not.toThrow();
  });

  it('rejects a leaf without EKU for time stamping (C3-12)', () => {
    expectFailure(
      () => validateLeafCertificate(req('validNoOptionsLeaf'), 'timestamping'),
      'ERR_CERT_REQUIREMENTS',
      'timestamp signing certificate with subject "CN=Hello" must have and only have Timestamping as extended key usage',
    );
  });

  it.each(BOTH)('rejects a leaf with cA=true (C3-13, %s)', (purpose) => {
    expectFailure(
      () => validateLeafCertificate(req('caTrueLeaf'), purpose),
      'ERR_CERT_REQUIREMENTS',
      'certificate with subject "CN=Hello": if the basic constraints extension is present, the ca field must be set to false',
    );
  });

  it.each(BOTH)('rejects a leaf without digitalSignature (C3-14, %s)', (purpose) => {
    expectFailure(
      () => validateLeafCertificate(req('kuNoDigitalSignatureLeaf'), purpose),
      'ERR_CERT_REQUIREMENTS',
      'the certificate with subject "CN=Hello" is invalid. The key usage must have the bit positions for "Digital Signature" set',
    );
  });

  it('rejects an RSA-1024 leaf (C3-15)', () => {
    expectFailure(
      () => validateLeafCertificate(req('rsaKeyTooSmallLeaf'), 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      'certificate with subject "CN=Hello": rsa key size 1024 bits is not supported',
    );
  });

  it('accepts the code-signing leaf (C3-16)', () => {
    expect(() => validateLeafCertificate(req('codeSigningLeaf'), 'codeSigning')).not.toThrow();
  });

  it('rejects a code-signing leaf with serverAuth among its EKUs, naming the first forbidden one (C3-17)', () => {
    expectFailure(
      () => validateLeafCertificate(req('ekuWrongValuesCodeLeaf'), 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      'certificate with subject "CN=Hello": extended key usage must not contain ServerAuth eku',
    );
  });

  it('rejects a time-stamping leaf with more EKUs than timeStamping (C3-18)', () => {
    expectFailure(
      () => validateLeafCertificate(req('unrelatedCert'), 'timestamping'),
      'ERR_CERT_REQUIREMENTS',
      'timestamp signing certificate with subject "CN=Hello" must have and only have Timestamping as extended key usage',
    );
  });

  it('rejects a code-signing leaf with the timeStamping EKU', () => {
    expectFailure(
      () => validateLeafCertificate(req('unrelatedCert'), 'codeSigning'),
      'ERR_CERT_REQUIREMENTS',
      'extended key usage must not contain Timestamping eku',
    );
  });
});
