import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors/index.js';
import { parseCertificateFile } from '../x509/certificate.js';
import type { RdnSequence } from '../x509/names.js';
import { leafSubjectForMatching, matchTrustedIdentity, validateTrustPolicy } from './index.js';
import type { TrustPolicyStatement } from './types.js';

const VECTORS = path.resolve(import.meta.dirname, '../../../shared/vectors');
const subjectOf = (file: string): RdnSequence =>
  (parseCertificateFile(new Uint8Array(readFileSync(path.join(VECTORS, file))))[0] as { subjectRdns: RdnSequence })
    .subjectRdns;

const SIGNING_CERT = subjectOf('notation-go/verifier/signing-cert.pem'); // CN=SomeCN,OU=SomeOU,O=SomeOrg,L=Seattle,ST=WA,C=US
const BAD_CERT = subjectOf('notation-go/verifier/bad-cert.pem'); // …,CN=bad=#CN,…

function mockLeaf(): RdnSequence {
  const envelope = JSON.parse(readFileSync(path.join(VECTORS, 'notation-go/mock/ca_valid_sig_env.json'), 'utf8')) as {
    header: { x5c: string[] };
  };
  const der = new Uint8Array(Buffer.from(envelope.header.x5c[0] as string, 'base64'));
  return (parseCertificateFile(der)[0] as { subjectRdns: RdnSequence }).subjectRdns;
}

function statementWith(trustedIdentities: string[]): TrustPolicyStatement {
  const policy = validateTrustPolicy({
    version: '1.0',
    trustPolicies: [
      {
        name: 'test-statement-name',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: ['ca:valid-trust-store'],
        trustedIdentities,
      },
    ],
  });
  return policy.statements[0] as TrustPolicyStatement;
}

function failure(statement: TrustPolicyStatement, subject: RdnSequence): PortcullisError {
  try {
    matchTrustedIdentity(statement, subject);
  } catch (error) {
    expect(error).toBeInstanceOf(PortcullisError);
    return error as PortcullisError;
  }
  throw new Error('expected the identity not to match');
}

const attr = (type: string, value: string, oid = ''): { type: string; oid: string; value: string } => ({
  type,
  oid: oid || `oid-of-${type}`,
  value,
});
const BASE: RdnSequence = [[attr('CN', 'build')], [attr('O', 'Acme')], [attr('ST', 'WA')], [attr('C', 'US')]];

describe('trusted identity matching', () => {
  describe('B18 (notation-go TestVerifyX509TrustedIdentities) with signing-cert.pem', () => {
    it.each([
      [['x509.subject:C=US,O=SomeOrg,ST=WA']],
      [['x509.subject:C=US,O=SomeOrg,ST=WA', 'nonX509Prefix:my-custom-identity']],
      [['x509.subject:C=US,O=SomeOrg,ST=WA', 'x509.subject:C=IND,O=SomeOrg,ST=TS']],
      [['*']],
    ])('accepts %j', (identities) => {
      expect(() => matchTrustedIdentity(statementWith(identities), SIGNING_CERT)).not.toThrow();
    });

    it('fails when only non-x509 identities are configured', () => {
      const error = failure(statementWith(['nonX509Prefix:my-custom-identity']), SIGNING_CERT);
      expect(error.code).toBe('ERR_IDENTITY_NONE');
      expect(error.message).toBe('no x509 trusted identities are configured in the trust policy "test-statement-name"');
    });

    it.each([
      [['x509.subject:C=IND,O=SomeOrg,ST=TS']],
      [['x509.subject:C=IND,O=SomeOrg,ST=TS', 'nonX509Prefix:my-custom-identity']],
      [['x509.subject:C=IND,O=SomeOrg,ST=TS', 'x509.subject:C=LOL,O=LOL,ST=LOL']],
    ])('rejects %j', (identities) => {
      const error = failure(statementWith(identities), SIGNING_CERT);
      expect(error.code).toBe('ERR_IDENTITY_MISMATCH');
      expect(error.message).toContain(
        'signing certificate from the digital signature does not match the X.509 trusted identities',
      );
    });

    it('rejects an identity containing =# already when the policy is validated', () => {
      expect(() => statementWith(['x509.subject:C=bad=#identity,O=LOL,ST=LOL'])).toThrow(
        expect.objectContaining({
          code: 'ERR_POLICY_INVALID',
          message: expect.stringContaining('notation does not support x509.subject identities containing "=#"'),
        }),
      );
    });

    it('rejects bad-cert.pem, whose subject contains =#, even for a matching identity', () => {
      const error = failure(
        statementWith(['x509.subject:C=US,O=SomeOrg,ST=WA', 'nonX509Prefix:my-custom-identity']),
        BAD_CERT,
      );
      expect(error.code).toBe('ERR_IDENTITY_MISMATCH');
      expect(error.message).toContain('error while parsing the certificate subject from the digital signature');
    });
  });

  it('B6: reports the configured identities the way notation prints them', () => {
    const error = failure(statementWith(['x509.subject:CN=LOL,O=DummyOrg,L=Hyderabad,ST=TG,C=IN']), mockLeaf());
    expect(error.code).toBe('ERR_IDENTITY_MISMATCH');
    expect(error.message).toBe(
      'signing certificate from the digital signature does not match the X.509 trusted identities [map["C":"IN" "CN":"LOL" "L":"Hyderabad" "O":"DummyOrg" "ST":"TG"]] defined in the trust policy "test-statement-name"',
    );
    expect(error.context.policy).toBe('test-statement-name');
  });

  it('B6 counterpart: the mock leaf matches its own subject', () => {
    expect(() =>
      matchTrustedIdentity(
        statementWith(['x509.subject:CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US']),
        mockLeaf(),
      ),
    ).not.toThrow();
  });

  it('accepts any subject for the wildcard identity', () => {
    expect(() => matchTrustedIdentity(statementWith(['*']), BAD_CERT)).not.toThrow();
    expect(() => matchTrustedIdentity(statementWith(['*']), [])).not.toThrow();
  });

  it('requires every attribute of the identity, with case-sensitive values', () => {
    expect(() => matchTrustedIdentity(statementWith(['x509.subject:C=US,ST=WA,O=Acme']), BASE)).not.toThrow();
    expect(failure(statementWith(['x509.subject:C=US,ST=WA,O=acme']), BASE).code).toBe('ERR_IDENTITY_MISMATCH');
    expect(failure(statementWith(['x509.subject:C=US,ST=WA,O=Acme,OU=Dev']), BASE).code).toBe('ERR_IDENTITY_MISMATCH');
  });

  it('matches an identity written with S against the leaf ST', () => {
    expect(() => matchTrustedIdentity(statementWith(['x509.subject:C=US,S=WA,O=Acme']), BASE)).not.toThrow();
  });

  it('matches escaped values by their unescaped content', () => {
    const leaf: RdnSequence = [[attr('O', 'Acme, Inc.')], [attr('ST', 'WA')], [attr('C', 'US')]];
    expect(() => matchTrustedIdentity(statementWith(['x509.subject:C=US,ST=WA,O=Acme\\, Inc.']), leaf)).not.toThrow();
  });

  it('cannot match a leaf subject with a repeated attribute type', () => {
    const leaf: RdnSequence = [[attr('OU', 'a')], [attr('OU', 'b')], ...BASE];
    const error = failure(statementWith(['x509.subject:C=US,ST=WA,O=Acme']), leaf);
    expect(error.code).toBe('ERR_IDENTITY_MISMATCH');
    expect(error.message).toContain('has duplicate RDN attribute for \\"OU\\"');
  });

  it('cannot match a leaf subject with a multi-valued RDN', () => {
    const leaf: RdnSequence = [
      [attr('CN', 'build'), attr('OU', 'dev')],
      [attr('O', 'Acme')],
      [attr('ST', 'WA')],
      [attr('C', 'US')],
    ];
    expect(failure(statementWith(['x509.subject:C=US,ST=WA,O=Acme']), leaf).message).toContain(
      'multi-valued RDN attributes',
    );
  });

  it('cannot match a leaf subject with an attribute Go has no short name for (printed as oid=#hex)', () => {
    const email = { type: '1.2.840.113549.1.9.1', oid: '1.2.840.113549.1.9.1', value: 'a@b.c' };
    const leaf: RdnSequence = [[email], ...BASE];
    expect(leafSubjectForMatching(leaf)).toBe('1.2.840.113549.1.9.1=#0c056140622e63,CN=build,O=Acme,ST=WA,C=US');
    expect(failure(statementWith(['x509.subject:C=US,ST=WA,O=Acme']), leaf).code).toBe('ERR_IDENTITY_MISMATCH');
  });
});
