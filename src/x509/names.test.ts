import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Pki } from '../../test/helpers/pki.js';
import { parseCertificate, parseCertificateFile } from './certificate.js';

const VECTORS = path.resolve(import.meta.dirname, '../../../shared/vectors');

describe('certificate subject strings (Go pkix.Name.String())', () => {
  const pki = new Pki();
  afterAll(() => pki.cleanup());
  const subjectOf = (subj: string): string => parseCertificate(pki.issue({ subject: subj }).certDer).subject;

  it('prints the canonical order whatever order the name is encoded in', () => {
    // expired_e2e.crt encodes O, ST, C; notation prints "O=…,ST=…,C=AU" (A4-1).
    const [cert] = parseCertificateFile(readFileSync(path.join(VECTORS, 'notation/e2e/localkeys/expired_e2e.crt')));
    expect(cert?.subject).toBe('O=Internet Widgits Pty Ltd,ST=Some-State,C=AU');
    expect(subjectOf('/CN=leaf/O=Acme/C=US/L=Seattle/ST=WA')).toBe('CN=leaf,O=Acme,L=Seattle,ST=WA,C=US');
    expect(subjectOf('/C=US/ST=WA/L=Seattle/O=Notary/CN=e2e')).toBe('CN=e2e,O=Notary,L=Seattle,ST=WA,C=US');
  });

  it('joins repeated attribute types into one RDN and keeps only the last CN', () => {
    expect(subjectOf('/C=US/OU=a/OU=b/CN=x')).toBe('CN=x,OU=a+OU=b,C=US');
    expect(subjectOf('/CN=first/CN=second/O=Acme')).toBe('CN=second,O=Acme');
  });

  it('prints attributes Go has no name for last, as the OID and hex DER of the value', () => {
    expect(subjectOf('/C=US/DC=a@b/CN=x')).toBe('CN=x,C=US,0.9.2342.19200300.100.1.25=#0c03614062');
    expect(subjectOf('/DC=one/DC=two/CN=x')).toBe(
      'CN=x,0.9.2342.19200300.100.1.25=#130374776f,0.9.2342.19200300.100.1.25=#13036f6e65',
    );
    expect(subjectOf('/CN=x/UID=abc')).toBe('CN=x,0.9.2342.19200300.100.1.1=#1303616263');
  });

  it('escapes RFC 4514 special characters as Go does', () => {
    expect(subjectOf('/O=DigiCert, Inc./CN=#lead')).toBe('CN=\\#lead,O=DigiCert\\, Inc.');
  });
});
