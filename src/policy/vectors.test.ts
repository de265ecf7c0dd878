import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors/index.js';
import { loadBlobTrustPolicy, loadTrustPolicy, selectStatement } from './index.js';
import type { TrustPolicy } from './types.js';

const VECTORS = path.resolve(import.meta.dirname, '../../../shared/vectors');
const POLICIES = path.join(VECTORS, 'notation/e2e/trustpolicies');
const read = (file: string): string => readFileSync(path.join(POLICIES, file), 'utf8');

function rejection(run: () => unknown): PortcullisError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PortcullisError);
    return error as PortcullisError;
  }
  throw new Error('expected a PortcullisError, nothing was thrown');
}

// Expected outcome of every OCI policy in notation's e2e suite (vectors INDEX A1, A2).
const INVALID: Record<string, { id: string; message: string }> = {
  'empty_registry_scope_trustpolicy.json': {
    id: 'A2-1',
    message: 'trust policy statement "e2e" has zero registry scopes',
  },
  'invalid_format_trustpolicy.json': { id: 'A2-11', message: 'malformed trust policy. ' },
  'malformed_registry_scope_trustpolicy.json': {
    id: 'A2-2',
    message:
      'registry scope "localhost:5000\\\\test-repo" is not valid, make sure it is a fully qualified repository without the scheme, protocol or tag. ',
  },
  'malformed_trusted_identity_trustpolicy.json': {
    id: 'A1-14',
    message: 'has trusted identity "x509.subject CN=e2e,O=Notary,L=Seattle,ST=WA,C=US" missing separator',
  },
  'missing_country_trusted_identity_trustpolicy.json': {
    id: 'A1-18',
    message: 'has no mandatory RDN attribute for "C", ',
  },
  'missing_state_trusted_identity_trustpolicy.json': {
    id: 'A1-17',
    message: 'distinguished name (DN) " CN=e2e,O=Notary,L=Seattle,C=US" has no mandatory RDN attribute for "ST", ',
  },
  'multi_statements_with_multi_wildcard_registry_scope_trustpolicy.json': {
    id: 'A2-9',
    message: 'registry scope "*" is present in multiple oci trust policy statements, ',
  },
  'multi_statements_with_the_same_registry_scope_trustpolicy.json': {
    id: 'A2-8',
    message:
      'registry scope "localhost:5000/test-repo8" is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement',
  },
  'overlapped_trusted_identity_trustpolicy.json': {
    id: 'A1-15',
    message: 'trust policy statement "e2e" has overlapping x509 trustedIdentities',
  },
  'override_integrity_for_permissive_trustpolicy.json': {
    id: 'A1-9',
    message: '"integrity" verification can not be overridden in custom signature verification',
  },
  'unset_trust_store_trustpolicy.json': {
    id: 'A1-10',
    message:
      'trust policy statement "e2e" is either missing trust stores or trusted identities, both must be specified',
  },
  'unset_trusted_identity_trustpolicy.json': {
    id: 'A1-13',
    message:
      'trust policy statement "e2e" is either missing trust stores or trusted identities, both must be specified',
  },
  'wildcard_plus_other_registry_scope_trustpolicy.json': {
    id: 'A2-6',
    message:
      'trust policy statement "e2e" uses wildcard registry scope \'*\', a wildcard scope cannot be used in conjunction with other scope values',
  },
  'wildcard_plus_other_trusted_identity_trustpolicy.json': {
    id: 'A1-16',
    message:
      "uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values",
  },
  'wildcard_trust_store_trustpolicy.json': {
    id: 'A1-12',
    message:
      'trust policy statement "e2e" has malformed trust store value "*". The required format is <TrustStoreType>:<TrustStoreName>',
  },
};

const VALID = [
  'any_registry_scope_trust_policy.json', // A2-5
  'audit_trustpolicy.json', // A2-13
  'invalid_registry_scope_trustpolicy.json', // A2-7 (valid; no statement applies to other repos)
  'invalid_trust_store_trustpolicy.json', // A1-11 (valid; the store is missing at verification)
  'multi_statements_with_wildcard_registry_scope_trustpolicy.json', // A1-3
  'multiple_registry_scope_trustpolicy.json', // A2-4
  'multiple_trust_store_trustpolicy.json', // A1-4
  'multiple_trusted_identity_trustpolicy.json', // A1-5
  'overlapped_trust_store_trustpolicy.json', // A2-12
  'override_audit_trustpolicy.json', // A2-13
  'override_permissive_trustpolicy.json', // A1-8
  'override_strict_trustpolicy.json', // A2-13
  'permissive_trustpolicy.json', // A1-7
  'quickstart_trustpolicy.json', // A2-13
  'registry_scope_trustpolicy.json', // A2-3
  'skip_trustpolicy.json', // A2-10
  'timestamp_after_cert_expiry_trustpolicy.json', // A2-13
  'timestamp_trustpolicy.json', // A2-13
  'trustpolicy.json', // A1-2
  'valid_trusted_identity_trustpolicy.json', // A1-1
];

// A blob document read as an OCI policy: its statements have no registryScopes.
const BLOB_AS_OCI = 'blob_trust_policy.json';

describe('trust policy vectors (notation e2e trustpolicies, INDEX A1/A2)', () => {
  it('has an expectation for every policy file in the vector directory', () => {
    const files = readdirSync(POLICIES).sort();
    expect(files).toEqual([...Object.keys(INVALID), ...VALID, BLOB_AS_OCI].sort());
  });

  for (const [file, { id, message }] of Object.entries(INVALID)) {
    it(`${id}: rejects ${file} with notation's message`, () => {
      const error = rejection(() => loadTrustPolicy(read(file)));
      expect(error.code).toBe('ERR_POLICY_INVALID');
      expect(error.message).toContain(message);
    });
  }

  for (const file of VALID) {
    it(`accepts ${file}`, () => {
      expect(() => loadTrustPolicy(read(file))).not.toThrow();
    });
  }

  it('rejects the blob policy document when it is read as an OCI policy (no registry scopes)', () => {
    const error = rejection(() => loadTrustPolicy(read(BLOB_AS_OCI)));
    expect(error.code).toBe('ERR_POLICY_INVALID');
    expect(error.message).toContain('oci trust policy statement "wabbit-networks-policy" has zero registry scopes');
  });

  describe('resolved values', () => {
    const load = (file: string): TrustPolicy => loadTrustPolicy(read(file));

    it('A1-8: permissive with authenticity overridden to log enforces the other overrides', () => {
      const [statement] = load('override_permissive_trustpolicy.json').statements;
      expect(statement?.actions).toEqual({
        integrity: 'enforce',
        authenticity: 'log',
        authenticTimestamp: 'enforce',
        expiry: 'enforce',
        revocation: 'enforce',
      });
      expect(statement?.customized).toBe(true);
    });

    it('A2-13: strict with every override set to log keeps integrity enforced', () => {
      const [statement] = load('override_strict_trustpolicy.json').statements;
      expect(statement?.actions).toEqual({
        integrity: 'enforce',
        authenticity: 'log',
        authenticTimestamp: 'log',
        expiry: 'log',
        revocation: 'log',
      });
    });

    it('A2-13: audit with every override set to enforce behaves like strict', () => {
      const [statement] = load('override_audit_trustpolicy.json').statements;
      expect(statement?.actions).toEqual({
        integrity: 'enforce',
        authenticity: 'enforce',
        authenticTimestamp: 'enforce',
        expiry: 'enforce',
        revocation: 'enforce',
      });
    });

    it('A2-13: audit logs every check but integrity', () => {
      const [statement] = load('audit_trustpolicy.json').statements;
      expect(statement?.actions).toEqual({
        integrity: 'enforce',
        authenticity: 'log',
        authenticTimestamp: 'log',
        expiry: 'log',
        revocation: 'log',
      });
    });

    it('A2-10: a `*` statement with level skip is accepted and skips every check', () => {
      const [statement] = load('skip_trustpolicy.json').statements;
      expect(statement?.level).toBe('skip');
      expect(statement?.registryScopes).toEqual(['*']);
      expect(Object.values(statement?.actions ?? {})).toEqual(['skip', 'skip', 'skip', 'skip', 'skip']);
    });

    it('A2-12: a trust store listed twice is kept once', () => {
      expect(load('overlapped_trust_store_trustpolicy.json').statements[0]?.trustStores).toEqual([
        { type: 'ca', name: 'e2e' },
      ]);
    });

    it('A1-4: several trust stores are all kept, in order', () => {
      expect(load('multiple_trust_store_trustpolicy.json').statements[0]?.trustStores).toEqual([
        { type: 'ca', name: 'e2e' },
        { type: 'ca', name: 'e2e-new' },
      ]);
    });

    it('A2-13: verifyTimestamp defaults to always and afterCertExpiry is kept', () => {
      expect(load('timestamp_trustpolicy.json').statements[0]?.verifyTimestamp).toBe('always');
      expect(load('trustpolicy.json').statements[0]?.verifyTimestamp).toBe('always');
      const [statement] = load('timestamp_after_cert_expiry_trustpolicy.json').statements;
      expect(statement?.verifyTimestamp).toBe('afterCertExpiry');
      expect(statement?.trustStores).toEqual([
        { type: 'ca', name: 'e2e' },
        { type: 'tsa', name: 'e2e' },
      ]);
    });

    it('A1-1/A1-5: x509.subject identities are parsed into attribute maps', () => {
      expect(load('valid_trusted_identity_trustpolicy.json').statements[0]?.x509Identities).toEqual([
        { CN: 'e2e', O: 'Notary', L: 'Seattle', ST: 'WA', C: 'US' },
      ]);
      expect(load('multiple_trusted_identity_trustpolicy.json').statements[0]?.x509Identities).toEqual([
        { CN: 'e2e', O: 'Notary', L: 'Seattle', ST: 'WA', C: 'US' },
        { O: 'Internet Widgits Pty Ltd', ST: 'Some-State', C: 'AU' },
      ]);
      expect(load('trustpolicy.json').statements[0]?.anyIdentity).toBe(true);
    });
  });

  describe('selection', () => {
    it('A1-3: the exact scope statement wins over the `*` statement', () => {
      const policy = loadTrustPolicy(read('multi_statements_with_wildcard_registry_scope_trustpolicy.json'));
      expect(selectStatement(policy, 'localhost:5000/test-repo9').name).toBe('e2e');
      expect(selectStatement(policy, 'localhost:5000/other').name).toBe('e2e2');
    });

    it('A2-4: every scope of a statement selects it', () => {
      const policy = loadTrustPolicy(read('multiple_registry_scope_trustpolicy.json'));
      expect(selectStatement(policy, 'localhost:5000/test-repo2').name).toBe('e2e');
      expect(selectStatement(policy, 'localhost:5000/test-repo3').name).toBe('e2e');
    });

    it('A2-7: an artifact outside every scope has no applicable statement', () => {
      const policy = loadTrustPolicy(read('invalid_registry_scope_trustpolicy.json'));
      const reference =
        'localhost:5000/e2e-test@sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';
      const error = rejection(() => selectStatement(policy, 'localhost:5000/e2e-test', reference));
      expect(error.code).toBe('ERR_POLICY_NO_MATCH');
      expect(error.message).toBe(
        `artifact "${reference}" has no applicable oci trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy`,
      );
    });
  });

  describe('blob policies (A2-14)', () => {
    it('accepts blob_trust_policy.json as a blob policy', () => {
      const policy = loadBlobTrustPolicy(read('blob_trust_policy.json'));
      expect(policy.statements.map((s) => [s.name, s.level, s.globalPolicy])).toEqual([
        ['wabbit-networks-policy', 'strict', false],
        ['skip-verification-policy', 'skip', false],
        ['global-verification-policy', 'audit', true],
      ]);
      expect(policy.statements[0]?.x509Identities).toEqual([
        { C: 'US', ST: 'WA', L: 'Seattle', O: 'wabbit-networks.io', OU: 'Security Tools' },
      ]);
    });

    it('accepts trustpolicies-blob/trustpolicy.blob.json', () => {
      const text = readFileSync(path.join(VECTORS, 'notation/e2e/trustpolicies-blob/trustpolicy.blob.json'), 'utf8');
      const policy = loadBlobTrustPolicy(text);
      expect(policy.statements.filter((s) => s.globalPolicy).map((s) => s.name)).toEqual([
        'test-blob-global-statement',
      ]);
      expect(policy.statements[2]?.trustStores).toEqual([
        { type: 'ca', name: 'e2e' },
        { type: 'tsa', name: 'e2e' },
      ]);
    });

    it('rejects malformed_trusted_identity_trustpolicy.json as a blob policy', () => {
      const error = rejection(() => loadBlobTrustPolicy(read('malformed_trusted_identity_trustpolicy.json')));
      expect(error.code).toBe('ERR_POLICY_INVALID');
      expect(error.message).toContain(
        'has trusted identity "x509.subject CN=e2e,O=Notary,L=Seattle,ST=WA,C=US" missing separator',
      );
    });
  });
});
