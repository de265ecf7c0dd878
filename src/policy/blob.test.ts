import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors/index.js';
import { selectBlobStatement, validateBlobTrustPolicy } from './index.js';
import type { BlobTrustPolicyDocument, BlobTrustPolicyStatementDocument } from './types.js';

const statement = (
  name: string,
  extra: Partial<BlobTrustPolicyStatementDocument> = {},
): BlobTrustPolicyStatementDocument => ({
  name,
  signatureVerification: { level: 'strict' },
  trustStores: ['ca:x'],
  trustedIdentities: ['*'],
  ...extra,
});
const doc = (...trustPolicies: BlobTrustPolicyStatementDocument[]): BlobTrustPolicyDocument => ({
  version: '1.0',
  trustPolicies,
});

function rejects(document: BlobTrustPolicyDocument, message: string): void {
  let caught: unknown;
  try {
    validateBlobTrustPolicy(document);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PortcullisError);
  expect((caught as PortcullisError).code).toBe('ERR_POLICY_INVALID');
  expect((caught as PortcullisError).message).toContain(message);
}

describe('blob trust policy', () => {
  it('rejects a document without a version', () => {
    rejects(
      { version: '', trustPolicies: [statement('a')] },
      'blob trust policy has empty version, version must be specified',
    );
  });

  it('rejects any version but 1.0', () => {
    rejects(
      { version: '1.1', trustPolicies: [statement('a')] },
      'blob trust policy document uses unsupported version "1.1"',
    );
  });

  it('rejects a document without statements', () => {
    rejects(doc(), 'blob trust policy document can not have zero trust policy statements');
  });

  it('rejects two statements with the same name', () => {
    rejects(
      doc(statement('a'), statement('a')),
      'multiple blob trust policy statements use the same name "a", statement names must be unique',
    );
  });

  it('applies the statement rules shared with OCI policies', () => {
    rejects(
      doc(statement('a', { trustStores: ['*'] })),
      'blob trust policy: trust policy statement "a" has malformed trust store value "*"',
    );
  });

  it('rejects more than one global statement', () => {
    rejects(
      doc(statement('a', { globalPolicy: true }), statement('b', { globalPolicy: true })),
      'multiple blob trust policy statements have globalPolicy set to true. Only one trust policy statement can be marked as global policy',
    );
  });

  it('accepts a global skip statement, as notation does', () => {
    const policy = validateBlobTrustPolicy(
      doc(
        statement('a', {
          globalPolicy: true,
          signatureVerification: { level: 'skip' },
          trustStores: [],
          trustedIdentities: [],
        }),
      ),
    );
    expect(policy.statements[0]?.globalPolicy).toBe(true);
  });

  describe('selection', () => {
    const policy = validateBlobTrustPolicy(
      doc(statement('a'), statement('global', { globalPolicy: true }), statement('b')),
    );

    it('selects a statement by name', () => {
      expect(selectBlobStatement(policy, 'b').name).toBe('b');
    });

    it('selects the global statement when no name is given', () => {
      expect(selectBlobStatement(policy).name).toBe('global');
      expect(selectBlobStatement(policy, '').name).toBe('global');
    });

    it('fails for an unknown name', () => {
      expect(() => selectBlobStatement(policy, 'c')).toThrow(
        expect.objectContaining({
          code: 'ERR_POLICY_NO_MATCH',
          message: 'no applicable blob trust policy with name "c"',
        }),
      );
    });

    it('fails without a name when no statement is global', () => {
      const noGlobal = validateBlobTrustPolicy(doc(statement('a')));
      expect(() => selectBlobStatement(noGlobal)).toThrow(
        expect.objectContaining({ code: 'ERR_POLICY_NO_MATCH', message: 'no global blob trust policy' }),
      );
    });
  });
});
