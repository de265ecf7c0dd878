import { describe, expect, it } from 'vitest';
import { API_VERSION, parseResource, type PolicyResource } from './resources.js';
import { statementRequirements } from './statement-options.js';
import type { InvalidResource } from './types.js';

function policy(statementOptions: unknown, kind = 'TrustPolicy'): unknown {
  const statement = (name: string, level = 'strict') => ({
    name,
    registryScopes: name === 'prod' ? ['*'] : [`registry.test/${name}`],
    signatureVerification: { level },
    trustStores: level === 'skip' ? [] : ['ca:e2e'],
    trustedIdentities: level === 'skip' ? [] : ['*'],
  });
  return {
    apiVersion: API_VERSION,
    kind,
    metadata: { name: 'p', ...(kind === 'TrustPolicy' ? { namespace: 'team' } : {}) },
    spec: {
      version: '1.0',
      trustPolicies: [statement('prod'), statement('sbom-signers'), statement('lax', 'skip')],
      ...(statementOptions === undefined ? {} : { statementOptions }),
    },
  };
}

function parse(statementOptions: unknown, kind?: string) {
  return parseResource(policy(statementOptions, kind), { defaultNamespace: 'default' });
}

function reasonOf(statementOptions: unknown): string {
  const outcome = parse(statementOptions);
  if (outcome.outcome !== 'invalid') throw new Error(`expected invalid, got ${outcome.outcome}`);
  expect(outcome.invalid.code).toBe('ERR_RESOURCE_INVALID');
  return outcome.invalid.reason;
}

describe('spec.statementOptions', () => {
  it.each(['TrustPolicy', 'ClusterTrustPolicy'])(
    'a %s carries platforms and required artifacts per statement',
    (kind) => {
      const outcome = parse(
        [
          {
            statement: 'prod',
            platforms: 'index',
            requiredArtifacts: [
              { artifactType: 'application/spdx+json', trustPolicy: 'sbom-signers', maxAge: '30d' },
              { artifactType: 'application/sarif+json' },
            ],
          },
        ],
        kind,
      );
      expect(outcome.outcome).toBe('resource');
      const resource = (outcome as { resource: PolicyResource }).resource;
      expect(statementRequirements(resource.statementOptions, 'prod')).toEqual({
        platforms: 'index',
        requiredArtifacts: [
          {
            artifactType: 'application/spdx+json',
            trustPolicy: 'sbom-signers',
            maxAge: '30d',
            maxAgeMs: 30 * 86_400_000,
          },
          { artifactType: 'application/sarif+json' },
        ],
      });
      // Statements without options have the defaults.
      expect(statementRequirements(resource.statementOptions, 'sbom-signers')).toEqual({
        platforms: 'any-of-index-or-all',
        requiredArtifacts: [],
      });
    },
  );

  it('absent: every statement has the defaults', () => {
    const outcome = parse(undefined);
    const resource = (outcome as { resource: PolicyResource }).resource;
    expect(resource.statementOptions).toBeUndefined();
    expect(statementRequirements(resource.statementOptions, 'prod').platforms).toBe('any-of-index-or-all');
  });

  it.each<[string, unknown, string]>([
    ['not a list', { prod: {} }, 'spec.statementOptions must be a list'],
    ['an unknown statement', [{ statement: 'nope' }], '"nope" is not a statement of spec.trustPolicies'],
    ['no statement name', [{ platforms: 'all' }], 'spec.statementOptions[0].statement is missing'],
    [
      'an unknown platforms value',
      [{ statement: 'prod', platforms: 'some' }],
      'is not one of index, all, any-of-index-or-all',
    ],
    ['a statement twice', [{ statement: 'prod' }, { statement: 'prod' }], 'has options twice'],
    ['an unknown field', [{ statement: 'prod', platform: 'all' }], 'unknown field "platform"'],
    [
      'an artifact type that is not a media type',
      [{ statement: 'prod', requiredArtifacts: [{ artifactType: 'sbom' }] }],
      'is not a media type',
    ],
    [
      'a required artifact without type',
      [{ statement: 'prod', requiredArtifacts: [{ trustPolicy: 'prod' }] }],
      'requiredArtifacts[0].artifactType is missing',
    ],
    [
      'an unknown trustPolicy',
      [{ statement: 'prod', requiredArtifacts: [{ artifactType: 'application/spdx+json', trustPolicy: 'x' }] }],
      'names trust policy statement "x", which the document does not have',
    ],
    [
      'a trustPolicy at level skip',
      [{ statement: 'prod', requiredArtifacts: [{ artifactType: 'application/spdx+json', trustPolicy: 'lax' }] }],
      'which is at level skip',
    ],
    [
      'required artifacts on a skip statement',
      [{ statement: 'lax', requiredArtifacts: [{ artifactType: 'application/spdx+json', trustPolicy: 'prod' }] }],
      'is at level skip, so its required artifacts would never be checked',
    ],
    [
      'a type required twice',
      [
        {
          statement: 'prod',
          requiredArtifacts: [{ artifactType: 'application/spdx+json' }, { artifactType: 'application/spdx+json' }],
        },
      ],
      'is required twice',
    ],
    [
      'a bad maxAge',
      [{ statement: 'prod', requiredArtifacts: [{ artifactType: 'application/spdx+json', maxAge: '1 week' }] }],
      'maxAge "1 week" is not a duration',
    ],
    [
      'a zero maxAge',
      [{ statement: 'prod', requiredArtifacts: [{ artifactType: 'application/spdx+json', maxAge: '0h' }] }],
      'must be longer than zero',
    ],
  ])('rejects %s, naming the field', (_, options, words) => {
    expect(reasonOf(options)).toContain(words);
  });

  it('an invalid option makes the whole policy invalid (it still blocks its namespace)', () => {
    const outcome = parse([{ statement: 'prod', platforms: 'bogus' }]);
    expect(outcome.outcome).toBe('invalid');
    expect((outcome as { invalid: InvalidResource }).invalid.blocks).toEqual({ kind: 'namespace', namespace: 'team' });
  });
});
