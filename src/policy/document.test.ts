import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors/index.js';
import { parseBlobTrustPolicyJson, parseTrustPolicyJson } from './document.js';

function malformed(text: string, detail?: string): void {
  let caught: unknown;
  try {
    parseTrustPolicyJson(text);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PortcullisError);
  expect((caught as PortcullisError).code).toBe('ERR_POLICY_INVALID');
  expect((caught as PortcullisError).message).toContain(
    'malformed trust policy. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy',
  );
  if (detail !== undefined) expect((caught as PortcullisError).message).toContain(detail);
}

const statement = {
  name: 's',
  registryScopes: ['*'],
  signatureVerification: { level: 'strict' },
  trustStores: ['ca:x'],
  trustedIdentities: ['*'],
};

describe('trust policy document parsing', () => {
  it('reads the statement fields', () => {
    expect(parseTrustPolicyJson(JSON.stringify({ version: '1.0', trustPolicies: [statement] }))).toEqual({
      version: '1.0',
      trustPolicies: [statement],
    });
  });

  it('rejects text that is not JSON', () => {
    malformed('{"version": "1.0",');
  });

  it('rejects a member name repeated in one object', () => {
    malformed(
      '{"version":"1.0","trustPolicies":[{"name":"a","trustedIdentities":["*"],"trustedIdentities":["x509.subject:C=US,ST=WA,O=X"]}]}',
      'trustedIdentities',
    );
    malformed('{"version":"1.0","version":"1.0","trustPolicies":[]}', 'version');
  });

  // notation-go decodes with encoding/json, which would let the second spelling win.
  it('rejects member names that differ only in case (Go would read them as one)', () => {
    malformed(
      '{"version":"1.0","trustPolicies":[{"name":"a","registryScopes":["r.example/a"],"RegistryScopes":["*"]}]}',
      'differ only in case',
    );
    malformed('{"version":"1.0","trustPolicies":[],"TrustPolicies":[]}', 'differ only in case');
    malformed(
      '{"version":"1.0","trustPolicies":[{"name":"a","signatureVerification":{"level":"strict","LEVEL":"skip"}}]}',
      'differ only in case',
    );
  });

  it('rejects unreasonably deep nesting as malformed', () => {
    malformed(`{"comment":${'['.repeat(40)}${']'.repeat(40)}}`, 'nesting deeper than');
  });

  it('refuses a document larger than 1 MiB before parsing it', () => {
    expect(() => parseTrustPolicyJson(' '.repeat(1024 * 1024 + 1))).toThrow(
      expect.objectContaining({ code: 'ERR_SIZE_LIMIT' }),
    );
  });

  it('allows the same member name in different objects', () => {
    const text = JSON.stringify({ version: '1.0', trustPolicies: [statement, { ...statement, name: 't' }] });
    expect(parseTrustPolicyJson(text).trustPolicies).toHaveLength(2);
  });

  it('does not mistake string contents for members', () => {
    const text = '{"version":"1.0","trustPolicies":[{"name":"a\\"b\\":{","registryScopes":["x:"]}]}';
    expect(parseTrustPolicyJson(text).trustPolicies[0]?.name).toBe('a"b":{');
  });

  it.each([
    ['a non-object document', '[]'],
    ['a non-string version', '{"version": 1}'],
    ['non-array trustPolicies', '{"version":"1.0","trustPolicies":{}}'],
    ['a non-object statement', '{"version":"1.0","trustPolicies":["s"]}'],
    ['a non-string name', '{"version":"1.0","trustPolicies":[{"name":1}]}'],
    ['a non-array registryScopes', '{"version":"1.0","trustPolicies":[{"registryScopes":"*"}]}'],
    ['a non-string scope', '{"version":"1.0","trustPolicies":[{"registryScopes":[1]}]}'],
    ['a non-object signatureVerification', '{"version":"1.0","trustPolicies":[{"signatureVerification":"strict"}]}'],
    [
      'a non-object override',
      '{"version":"1.0","trustPolicies":[{"signatureVerification":{"level":"strict","override":[]}}]}',
    ],
    [
      'a non-string override action',
      '{"version":"1.0","trustPolicies":[{"signatureVerification":{"level":"strict","override":{"expiry":true}}}]}',
    ],
    [
      'a non-string verifyTimestamp',
      '{"version":"1.0","trustPolicies":[{"signatureVerification":{"level":"strict","verifyTimestamp":1}}]}',
    ],
  ])('rejects %s as malformed', (_, text) => {
    malformed(text);
  });

  it('ignores unknown members, as notation does', () => {
    const text = JSON.stringify({
      version: '1.0',
      comment: 'x',
      trustPolicies: [{ ...statement, globalPolicy: true, extra: [1] }],
    });
    expect(parseTrustPolicyJson(text)).toEqual({ version: '1.0', trustPolicies: [statement] });
  });

  it('reads absent or null members as their zero value, leaving the rules to validation', () => {
    expect(
      parseTrustPolicyJson('{"version":null,"trustPolicies":[{"name":null,"signatureVerification":null}]}'),
    ).toEqual({
      version: '',
      trustPolicies: [{ name: '', registryScopes: [], signatureVerification: { level: '' } }],
    });
    expect(parseTrustPolicyJson('{}')).toEqual({ version: '', trustPolicies: [] });
  });

  it('reads a blob document with globalPolicy and without registryScopes', () => {
    const blob = { ...statement } as Partial<typeof statement>;
    delete blob.registryScopes;
    expect(
      parseBlobTrustPolicyJson(
        JSON.stringify({ version: '1.0', trustPolicies: [{ ...blob, globalPolicy: true, registryScopes: ['x'] }] }),
      ),
    ).toEqual({
      version: '1.0',
      trustPolicies: [{ ...blob, globalPolicy: true }],
    });
  });

  it('rejects a non-boolean globalPolicy in a blob document', () => {
    expect(() => parseBlobTrustPolicyJson('{"version":"1.0","trustPolicies":[{"globalPolicy":"true"}]}')).toThrow(
      /malformed trust policy/,
    );
  });
});
