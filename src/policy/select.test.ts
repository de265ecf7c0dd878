import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../errors/index.js';
import { selectStatement, validateTrustPolicy } from './index.js';
import type { TrustPolicyStatementDocument } from './types.js';

const statement = (name: string, registryScopes: string[]): TrustPolicyStatementDocument => ({
  name,
  registryScopes,
  signatureVerification: { level: 'strict' },
  trustStores: ['ca:x'],
  trustedIdentities: ['*'],
});

const policy = (...statements: TrustPolicyStatementDocument[]) =>
  validateTrustPolicy({ version: '1.0', trustPolicies: statements });

function noMatch(run: () => unknown): PortcullisError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PortcullisError);
    return error as PortcullisError;
  }
  throw new Error('expected ERR_POLICY_NO_MATCH');
}

describe('trust policy selection', () => {
  it('picks the statement whose scopes contain the repository exactly', () => {
    const p = policy(statement('a', ['localhost:5000/net-monitor']), statement('b', ['localhost:5000/other']));
    expect(selectStatement(p, 'localhost:5000/net-monitor').name).toBe('a');
    expect(selectStatement(p, 'localhost:5000/other').name).toBe('b');
  });

  it('prefers an exact scope over the wildcard, wherever the wildcard statement stands', () => {
    const p = policy(statement('any', ['*']), statement('exact', ['localhost:5000/net-monitor']));
    expect(selectStatement(p, 'localhost:5000/net-monitor').name).toBe('exact');
  });

  it('falls back to the wildcard statement', () => {
    const p = policy(statement('exact', ['localhost:5000/net-monitor']), statement('any', ['*']));
    expect(selectStatement(p, 'registry.example/app').name).toBe('any');
  });

  it("fails with notation's message when neither an exact scope nor a wildcard applies", () => {
    const p = policy(statement('exact', ['localhost:5000/net-monitor']));
    const error = noMatch(() => selectStatement(p, 'localhost:5000/other', 'localhost:5000/other@sha256:abc'));
    expect(error.code).toBe('ERR_POLICY_NO_MATCH');
    expect(error.message).toBe(
      'artifact "localhost:5000/other@sha256:abc" has no applicable oci trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy',
    );
    expect(error.context.reference).toBe('localhost:5000/other@sha256:abc');
  });

  it('names the repository when no reference is given', () => {
    const error = noMatch(() => selectStatement(policy(statement('a', ['x.io/a'])), 'x.io/b'));
    expect(error.message).toContain('artifact "x.io/b" has no applicable oci trust policy statement.');
  });

  it('matches docker.io/library/nginx literally, without normalising references', () => {
    const p = policy(statement('nginx', ['docker.io/library/nginx']));
    expect(selectStatement(p, 'docker.io/library/nginx').name).toBe('nginx');
    expect(noMatch(() => selectStatement(p, 'nginx')).code).toBe('ERR_POLICY_NO_MATCH');
    expect(noMatch(() => selectStatement(p, 'library/nginx')).code).toBe('ERR_POLICY_NO_MATCH');
    expect(noMatch(() => selectStatement(p, 'index.docker.io/library/nginx')).code).toBe('ERR_POLICY_NO_MATCH');
  });

  it('does not match a scope by prefix or case', () => {
    const p = policy(statement('a', ['localhost:5000/net-monitor']));
    expect(noMatch(() => selectStatement(p, 'localhost:5000/net-monitor/sub')).code).toBe('ERR_POLICY_NO_MATCH');
    expect(noMatch(() => selectStatement(p, 'LOCALHOST:5000/net-monitor')).code).toBe('ERR_POLICY_NO_MATCH');
  });
});
