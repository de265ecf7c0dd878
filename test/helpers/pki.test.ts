import { afterAll, describe, expect, it } from 'vitest';
import { parseCertificate, isIssuedBy, isSelfSigned } from '../../src/x509/certificate.js';
import { Pki, codeSigningChain } from './pki.js';

describe('test PKI helper (openssl ca)', () => {
  const pki = new Pki();
  afterAll(() => pki.cleanup());

  it('issues a root, intermediate and leaf that chain by signature', () => {
    const chain = codeSigningChain(pki, { leafKey: 'ec-256' });
    const [leaf, inter, root] = chain.chainDer.map((d) => parseCertificate(d)) as [any, any, any];
    expect(isIssuedBy(leaf, inter)).toBe(true);
    expect(isIssuedBy(inter, root)).toBe(true);
    expect(isSelfSigned(root)).toBe(true);
    expect(isIssuedBy(leaf, root)).toBe(false);
    expect(leaf.subject).toBe('CN=Portcullis Test Signer,O=Portcullis Test,L=Seattle,ST=WA,C=US');
    expect(inter.basicConstraints).toEqual({ ca: true, pathLength: 0, critical: true });
  });

  it('honours explicit validity windows', () => {
    const notBefore = new Date('2020-01-01T00:00:00Z');
    const notAfter = new Date('2021-01-01T00:00:00Z');
    const c = pki.issue({ subject: '/CN=old', notBefore, notAfter });
    const cert = parseCertificate(c.certDer);
    expect(cert.notBefore.toISOString()).toBe(notBefore.toISOString());
    expect(cert.notAfter.toISOString()).toBe(notAfter.toISOString());
  });
});
