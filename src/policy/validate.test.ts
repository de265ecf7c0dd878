import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors/index.js';
import { loadTrustPolicy, validateTrustPolicy } from './index.js';
import type { TrustPolicyDocument, TrustPolicyStatementDocument } from './types.js';

type Statement = Partial<Omit<TrustPolicyStatementDocument, 'signatureVerification'>> & {
  signatureVerification?: Partial<TrustPolicyStatementDocument['signatureVerification']>;
};

// The notation-go unit-test statement (helpers_test.go dummyOCIPolicyDocument), as the base.
function statement(overrides: Statement = {}): TrustPolicyStatementDocument {
  return {
    name: 'test-statement-name',
    registryScopes: ['registry.acme-rockets.io/software/net-monitor'],
    trustStores: ['ca:valid-trust-store', 'signingAuthority:valid-trust-store'],
    trustedIdentities: ['x509.subject:CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US'],
    ...overrides,
    signatureVerification: { level: 'strict', ...overrides.signatureVerification },
  };
}

function doc(...statements: TrustPolicyStatementDocument[]): TrustPolicyDocument {
  return { version: '1.0', trustPolicies: statements.length > 0 ? statements : [statement()] };
}

function rejects(document: TrustPolicyDocument, message: string): PortcullisError {
  let caught: unknown;
  try {
    validateTrustPolicy(document);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PortcullisError);
  const error = caught as PortcullisError;
  expect(error.code).toBe('ERR_POLICY_INVALID');
  expect(error.message).toContain(message);
  return error;
}

describe('trust policy', () => {
  it('accepts the notation-go unit-test statement', () => {
    const policy = validateTrustPolicy(doc());
    expect(policy.version).toBe('1.0');
    expect(policy.statements[0]?.trustStores).toEqual([
      { type: 'ca', name: 'valid-trust-store' },
      { type: 'signingAuthority', name: 'valid-trust-store' },
    ]);
  });

  describe('document', () => {
    it('rejects a document without a version', () => {
      rejects({ ...doc(), version: '' }, 'oci trust policy document has empty version, version must be specified');
    });

    it('rejects any version but 1.0', () => {
      rejects({ ...doc(), version: '2.0' }, 'oci trust policy document uses unsupported version "2.0"');
    });

    it('rejects a document without statements', () => {
      rejects(
        { version: '1.0', trustPolicies: [] },
        'oci trust policy document can not have zero trust policy statements',
      );
    });

    it('rejects two statements with the same name', () => {
      rejects(
        doc(statement(), statement({ registryScopes: ['registry.acme-rockets.io/software/legacy/metrics'] })),
        'multiple oci trust policy statements use the same name "test-statement-name", statement names must be unique',
      );
    });

    it('rejects a statement without a name', () => {
      rejects(
        doc(statement({ name: '' })),
        'oci trust policy: a trust policy statement is missing a name, every statement requires a name',
      );
    });

    it('names the offending statement in the error context', () => {
      const error = rejects(doc(statement({ trustStores: [] })), 'is either missing trust stores');
      expect(error.context.policy).toBe('test-statement-name');
    });
  });

  describe('signatureVerification', () => {
    it('rejects a missing level', () => {
      rejects(
        doc(statement({ signatureVerification: { level: '' } })),
        'trust policy statement "test-statement-name" has invalid signatureVerification: signature verification level is empty or missing in the trust policy statement',
      );
    });

    it('rejects an unknown level', () => {
      rejects(
        doc(statement({ signatureVerification: { level: 'invalid' } })),
        'oci trust policy: trust policy statement "test-statement-name" has invalid signatureVerification: invalid signature verification level "invalid"',
      );
    });

    it('rejects overrides on a skip level', () => {
      rejects(
        doc(
          statement({
            signatureVerification: { level: 'skip', override: { revocation: 'log' } },
            trustStores: [],
            trustedIdentities: [],
          }),
        ),
        'signature verification level "skip" can\'t be used to customize signature verification',
      );
    });

    it('rejects an override of an unknown check', () => {
      rejects(
        doc(statement({ signatureVerification: { level: 'strict', override: { freshness: 'log' } } })),
        'verification type "freshness" in custom signature verification is not supported, supported values are ["integrity" "authenticity" "authenticTimestamp" "expiry" "revocation"]',
      );
    });

    it('rejects an override with an unknown action', () => {
      rejects(
        doc(statement({ signatureVerification: { level: 'strict', override: { expiry: 'warn' } } })),
        'verification action "warn" in custom signature verification is not supported, supported values are ["enforce" "log" "skip"]',
      );
    });

    it('rejects any override of integrity, even to enforce', () => {
      rejects(
        doc(statement({ signatureVerification: { level: 'strict', override: { integrity: 'enforce' } } })),
        '"integrity" verification can not be overridden in custom signature verification',
      );
    });

    it('rejects skipping a check other than revocation', () => {
      rejects(
        doc(statement({ signatureVerification: { level: 'strict', override: { authenticity: 'skip' } } })),
        '"authenticity" verification can not be skipped in custom signature verification',
      );
    });

    it('allows skipping revocation', () => {
      const policy = validateTrustPolicy(
        doc(statement({ signatureVerification: { level: 'strict', override: { revocation: 'skip' } } })),
      );
      expect(policy.statements[0]?.actions.revocation).toBe('skip');
      expect(policy.statements[0]?.actions.authenticity).toBe('enforce');
    });

    it('treats an empty override map as no override', () => {
      const policy = validateTrustPolicy(
        doc(statement({ signatureVerification: { level: 'permissive', override: {} } })),
      );
      expect(policy.statements[0]?.customized).toBe(false);
      expect(policy.statements[0]?.actions.expiry).toBe('log');
    });

    it('rejects an unknown verifyTimestamp', () => {
      rejects(
        doc(statement({ signatureVerification: { level: 'strict', verifyTimestamp: 'invalid' } })),
        'oci trust policy: trust policy statement "test-statement-name" has invalid signatureVerification: verifyTimestamp must be "always" or "afterCertExpiry", but got "invalid"',
      );
    });

    it('reads an empty verifyTimestamp as always', () => {
      const policy = validateTrustPolicy(
        doc(statement({ signatureVerification: { level: 'strict', verifyTimestamp: '' } })),
      );
      expect(policy.statements[0]?.verifyTimestamp).toBe('always');
    });
  });

  describe('trust stores and identities presence', () => {
    it('rejects a skip statement with trust stores or identities', () => {
      rejects(
        doc(statement({ signatureVerification: { level: 'skip' } })),
        'oci trust policy: trust policy statement "test-statement-name" is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped',
      );
    });

    it('accepts a skip statement with empty trust stores and identities', () => {
      const policy = validateTrustPolicy(
        doc(statement({ signatureVerification: { level: 'skip' }, trustStores: [], trustedIdentities: [] })),
      );
      expect(policy.statements[0]?.level).toBe('skip');
      expect(policy.statements[0]?.trustStores).toEqual([]);
    });

    it('rejects a verifying statement without trust stores', () => {
      rejects(
        doc(statement({ trustStores: [] })),
        'trust policy statement "test-statement-name" is either missing trust stores or trusted identities, both must be specified',
      );
    });

    it('rejects a verifying statement without trusted identities', () => {
      const without: { -readonly [K in keyof TrustPolicyStatementDocument]?: TrustPolicyStatementDocument[K] } = {
        ...statement(),
      };
      delete without.trustedIdentities;
      rejects(
        doc(without as TrustPolicyStatementDocument),
        'trust policy statement "test-statement-name" is either missing trust stores or trusted identities, both must be specified',
      );
    });
  });

  describe('trustStores', () => {
    it('B5: rejects a trust store value without a type separator', () => {
      rejects(
        doc(statement({ trustStores: ['ca:valid-trust-store-2', 'signingAuthority'] })),
        'trust policy statement "test-statement-name" has malformed trust store value "signingAuthority". The required format is <TrustStoreType>:<TrustStoreName>',
      );
    });

    it('rejects an unknown trust store type', () => {
      rejects(
        doc(statement({ trustStores: ['invalid:test-trust-store'] })),
        'trust policy statement "test-statement-name" uses an unsupported trust store type "invalid" in trust store value "invalid:test-trust-store"',
      );
    });

    it('rejects an empty trust store name', () => {
      rejects(
        doc(statement({ trustStores: ['ca:'] })),
        'uses an unsupported trust store name "" in trust store value "ca:". Named store name needs to follow [a-zA-Z0-9_.-]+ format',
      );
    });

    it('rejects a trust store name outside [a-zA-Z0-9_.-]', () => {
      rejects(doc(statement({ trustStores: ['ca:../etc'] })), 'uses an unsupported trust store name "../etc"');
      rejects(doc(statement({ trustStores: ['tsa:a b'] })), 'uses an unsupported trust store name "a b"');
    });

    it('rejects the names . and .., which would leave the store directory', () => {
      rejects(doc(statement({ trustStores: ['ca:..'] })), 'uses an unsupported trust store name ".."');
      rejects(doc(statement({ trustStores: ['ca:.'] })), 'uses an unsupported trust store name "."');
    });

    it('keeps a repeated trust store once', () => {
      const policy = validateTrustPolicy(doc(statement({ trustStores: ['tsa:t', 'ca:c', 'tsa:t'] })));
      expect(policy.statements[0]?.trustStores).toEqual([
        { type: 'tsa', name: 't' },
        { type: 'ca', name: 'c' },
      ]);
    });
  });

  describe('trustedIdentities', () => {
    const identities = (trustedIdentities: string[]) => doc(statement({ trustedIdentities }));

    it('rejects a wildcard identity combined with other identities', () => {
      rejects(
        identities(['*', 'test-identity']),
        'oci trust policy: trust policy statement "test-statement-name" uses a wildcard trusted identity \'*\', a wildcard identity cannot be used in conjunction with other values',
      );
    });

    it('rejects an empty identity', () => {
      rejects(identities(['']), 'trust policy statement "test-statement-name" has an empty trusted identity');
    });

    it('rejects an identity without a prefix separator', () => {
      rejects(
        identities(['x509.subject']),
        'trust policy statement "test-statement-name" has trusted identity "x509.subject" missing separator',
      );
    });

    it('B7: rejects x509.subject without a value', () => {
      rejects(
        identities(['x509.subject:']),
        'trust policy statement "test-statement-name" has trusted identity "x509.subject:" without an identity value',
      );
    });

    it('rejects a DN that is not RFC 4514', () => {
      rejects(
        identities(['x509.subject:C=US,ST=WA,O=Acme,junk']),
        'has trusted identity "x509.subject:C=US,ST=WA,O=Acme,junk" with invalid identity value: parsing distinguished name (DN) "C=US,ST=WA,O=Acme,junk" failed with err: ',
      );
    });

    it('rejects a DN without C', () => {
      rejects(
        identities(['x509.subject:ST=WA,O=Acme']),
        'distinguished name (DN) "ST=WA,O=Acme" has no mandatory RDN attribute for "C"',
      );
    });

    it('rejects a DN without ST', () => {
      rejects(identities(['x509.subject:C=US,O=Acme']), 'has no mandatory RDN attribute for "ST"');
    });

    it('rejects a DN without O', () => {
      rejects(identities(['x509.subject:C=US,ST=WA']), 'has no mandatory RDN attribute for "O"');
    });

    it('accepts S as the state attribute and stores it as ST', () => {
      const policy = validateTrustPolicy(identities(['x509.subject:C=US,S=WA,O=Acme']));
      expect(policy.statements[0]?.x509Identities).toEqual([{ C: 'US', ST: 'WA', O: 'Acme' }]);
    });

    it('rejects multi-valued RDNs', () => {
      rejects(
        identities(['x509.subject:C=US+ST=WA,O=Acme']),
        'distinguished name (DN) "C=US+ST=WA,O=Acme" has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported',
      );
    });

    it('rejects a repeated attribute type', () => {
      rejects(
        identities(['x509.subject:C=US,ST=WA,O=Acme,OU=a,OU=b']),
        'has duplicate RDN attribute for "OU", DN can only have unique RDN attributes',
      );
    });

    it('rejects hex-encoded (=#) values', () => {
      rejects(
        identities(['x509.subject:C=bad=#identity,O=LOL,ST=LOL']),
        'unsupported distinguished name (DN) "C=bad=#identity,O=LOL,ST=LOL": notation does not support x509.subject identities containing "=#"',
      );
    });

    it('rejects two identities where one is a subset of the other', () => {
      rejects(
        identities(['x509.subject:C=US,ST=WA,O=Acme,CN=build', 'x509.subject:C=US,ST=WA,O=Acme']),
        'trust policy statement "test-statement-name" has overlapping x509 trustedIdentities, "x509.subject:C=US,ST=WA,O=Acme" overlaps with "x509.subject:C=US,ST=WA,O=Acme,CN=build"',
      );
    });

    it('rejects the same identity twice', () => {
      rejects(
        identities(['x509.subject:C=US,ST=WA,O=Acme', 'x509.subject: C=US, ST=WA, O=Acme']),
        'has overlapping x509 trustedIdentities',
      );
    });

    it('keeps identities with other prefixes for plugins without evaluating them', () => {
      const policy = validateTrustPolicy(
        identities(['x509.subject:C=US,ST=WA,O=Acme', 'nonX509Prefix:my-custom-identity']),
      );
      expect(policy.statements[0]?.x509Identities).toEqual([{ C: 'US', ST: 'WA', O: 'Acme' }]);
      expect(policy.statements[0]?.otherIdentities).toEqual(['nonX509Prefix:my-custom-identity']);
      expect(policy.statements[0]?.anyIdentity).toBe(false);
    });
  });

  describe('registryScopes', () => {
    const scopes = (registryScopes: string[]) => doc(statement({ registryScopes }));

    it('rejects a statement without registry scopes', () => {
      rejects(
        scopes([]),
        'oci trust policy statement "test-statement-name" has zero registry scopes, it must specify registry scopes with at least one value',
      );
    });

    it('rejects a wildcard scope combined with other scopes', () => {
      rejects(
        scopes(['*', 'registry.acme-rockets.io/software/net-monitor']),
        'oci trust policy statement "test-statement-name" uses wildcard registry scope \'*\', a wildcard scope cannot be used in conjunction with other scope values',
      );
    });

    const INVALID_SCOPES = [
      '',
      '1:1',
      'a,b',
      'abcd',
      '1111',
      '1,2',
      'example.com/rep:tag',
      'example.com/rep/subrep/sub:latest',
      'example.com',
      'rep/rep2:latest',
      'repository',
      '10.10.10.10',
      '10.10.10.10:8080/rep/rep2:latest',
      'https://example.com/rep',
      'example.com/Upper',
      'example.com/rep@sha256:abc',
      'localhost:5000\\test-repo',
    ];
    it.each(INVALID_SCOPES)('rejects the scope %j, which is not domain[:port]/lower-case-path', (scope) => {
      rejects(
        scopes([scope]),
        `registry scope ${JSON.stringify(scope)} is not valid, make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout`,
      );
    });

    it.each(['example.com/*', '*/', 'example*/', 'ex*test'])(
      'rejects the scope %j, which contains a wildcard',
      (scope) => {
        rejects(
          scopes([scope]),
          `registry scope ${JSON.stringify(scope)} with wild card(s) is not valid, make sure it is`,
        );
      },
    );

    it.each([
      '*',
      'example.com/rep',
      'example.com:8080/rep/rep2',
      'example.com/rep/subrep/subsub',
      '10.10.10.10:8080/rep/rep2',
      'domain/rep',
      'domain:1234/rep',
      'docker.io/library/nginx',
      'local/my_oci-layout.v2',
    ])('accepts the scope %j', (scope) => {
      expect(validateTrustPolicy(scopes([scope])).statements[0]?.registryScopes).toEqual([scope]);
    });

    it('rejects a scope that appears in two statements', () => {
      rejects(
        doc(statement(), statement({ name: 'test-statement-name-2' })),
        'registry scope "registry.acme-rockets.io/software/net-monitor" is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement',
      );
    });

    it('rejects a scope listed twice in the same statement', () => {
      rejects(
        scopes(['example.com/rep', 'example.com/rep']),
        'registry scope "example.com/rep" is present in multiple oci trust policy statements',
      );
    });

    // Scopes are compared in the canonical spelling image references get, so that no spelling
    // of an image (LOCALHOST, a port with leading zeros, a Docker Hub alias) escapes its statement.
    it.each([
      ['LOCALHOST:05012/test-repo', 'localhost:5012/test-repo'],
      ['Registry.Example.COM/team/app', 'registry.example.com/team/app'],
      ['docker.io/nginx', 'docker.io/library/nginx'],
      ['index.docker.io/library/nginx', 'docker.io/library/nginx'],
      ['registry-1.docker.io/user/app', 'docker.io/user/app'],
    ])('keeps the scope %j as %j', (scope, canonical) => {
      expect(validateTrustPolicy(scopes([scope])).statements[0]?.registryScopes).toEqual([canonical]);
    });

    it('rejects two spellings of one scope in two statements, naming both', () => {
      rejects(
        doc(
          statement({ registryScopes: ['localhost:5012/test-repo'] }),
          statement({ name: 'other', registryScopes: ['LOCALHOST:05012/test-repo'] }),
        ),
        'registry scope "localhost:5012/test-repo" (written "LOCALHOST:05012/test-repo") is present in multiple oci trust policy statements',
      );
    });

    it.each([
      ['registry-1.docker.io/nginx', 'docker.io/library/nginx'],
      ['registry.example:443/app', 'default port 443'],
      ['127.1:5000/app', 'numeric address'],
    ])('rejects the scope %j, which has no one canonical spelling', (scope, hint) => {
      rejects(scopes([scope]), hint);
    });

    it('rejects two wildcard statements', () => {
      rejects(
        doc(statement({ registryScopes: ['*'] }), statement({ name: 'other', registryScopes: ['*'] })),
        'registry scope "*" is present in multiple oci trust policy statements',
      );
    });

    it('accepts a wildcard statement with level skip', () => {
      const policy = validateTrustPolicy(
        doc(
          statement({
            registryScopes: ['*'],
            signatureVerification: { level: 'skip' },
            trustStores: [],
            trustedIdentities: [],
          }),
        ),
      );
      expect(policy.statements[0]?.level).toBe('skip');
    });
  });

  describe('levels', () => {
    it.each([
      [
        'strict',
        {
          integrity: 'enforce',
          authenticity: 'enforce',
          authenticTimestamp: 'enforce',
          expiry: 'enforce',
          revocation: 'enforce',
        },
      ],
      [
        'permissive',
        { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
      ],
      [
        'audit',
        { integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
      ],
    ])('resolves level %s to its action table', (level, actions) => {
      expect(validateTrustPolicy(doc(statement({ signatureVerification: { level } }))).statements[0]?.actions).toEqual(
        actions,
      );
    });
  });

  it('never turns a rejected document into a policy: loadTrustPolicy throws for the whole document', () => {
    const text = JSON.stringify(
      doc(statement(), statement({ name: 'bad', registryScopes: ['example.com/x'], trustStores: ['*'] })),
    );
    expect(() => loadTrustPolicy(text)).toThrow(PortcullisError);
  });

  it('returns a frozen policy', () => {
    const policy = validateTrustPolicy(doc());
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.statements[0])).toBe(true);
    expect(Object.isFrozen(policy.statements[0]?.actions)).toBe(true);
  });
});
