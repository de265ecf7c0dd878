import { describe, expect, it } from 'vitest';
import { buildSnapshot } from '../policyset/index.js';
import { checkManifests } from './check.js';
import { convertKyverno } from './kyverno.js';
import { find, fixture, pem, storeCertificates } from '../../test/helpers/migrate.js';
import type { ConversionNote, InputObject } from './types.js';

const warnings = (notes: readonly ConversionNote[]) => notes.filter((n) => n.level === 'warning').map((n) => n.message);

/** A ClusterPolicy with one Notary verifyImages rule. */
function clusterPolicy(rule: Record<string, unknown>, spec: Record<string, unknown> = {}): InputObject {
  return {
    origin: 'inline#1',
    object: {
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'notary' },
      spec: {
        validationFailureAction: 'Enforce',
        rules: [{ name: 'verify', match: { any: [{ resources: { kinds: ['Pod'] } }] }, ...rule }],
        ...spec,
      },
    },
  };
}
const notaryRule = (verify: Record<string, unknown>) => ({
  verifyImages: [{ type: 'Notary', imageReferences: ['registry.example/app:*'], ...verify }],
});
const certEntry = (file: string) => ({ certificates: { cert: pem(file) } });

describe('import kyverno: ClusterPolicy and Policy verifyImages of type Notary', () => {
  const { manifests, notes } = convertKyverno(fixture('kyverno-policies.yaml'));

  it('writes manifests Portcullis takes as valid', () => {
    expect(checkManifests(manifests)).toEqual([]);
    expect(manifests.map((m) => m['kind'])).toEqual([
      'ClusterTrustStore',
      'ClusterTrustPolicy',
      'TrustStore',
      'TrustPolicy',
      'TrustStore',
      'TrustPolicy',
    ]);
  });

  it("builds Kyverno's own trust policy (strict, any identity) with one store for a count: 1 attestor set", () => {
    const name = 'check-image-notary-verify-signature-notary';
    const policy = find(manifests, 'ClusterTrustPolicy', name);
    expect(policy.spec.enforcementAction).toBe('deny');
    expect(policy.spec.trustPolicies).toEqual([
      {
        name: 'verify-signature-notary',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: [`ca:${name}`],
        trustedIdentities: ['*'],
      },
      {
        name: 'verify-signature-notary-skip',
        registryScopes: ['registry.example/app-debug'],
        signatureVerification: { level: 'skip' },
      },
    ]);
    expect(storeCertificates(find(manifests, 'ClusterTrustStore', name))).toEqual([
      pem('ca.crt'),
      pem('selfsigned.crt'),
    ]);
  });

  it('covers the namespaces match names, less those exclude names', () => {
    const policy = find(manifests, 'ClusterTrustPolicy', 'check-image-notary-verify-signature-notary');
    const snapshot = buildSnapshot({ resources: manifests, revision: 1 });
    expect(policy.spec.namespaceSelector.matchExpressions).toHaveLength(2);
    expect(snapshot.documentsFor('prod').map((d) => d.id.name)).toEqual([policy.metadata.name]);
    expect(snapshot.documentsFor('staging')).toEqual([]);
    expect(snapshot.documentsFor('dev')).toEqual([]);
  });

  it('requires every entry of an attestor set without count, each as a policy of its own, in audit mode as dryrun', () => {
    const one = find(manifests, 'TrustPolicy', 'team-notary-both-signers-1', 'team-a');
    const two = find(manifests, 'TrustPolicy', 'team-notary-both-signers-2', 'team-a');
    for (const p of [one, two]) {
      expect(p.spec.enforcementAction).toBe('dryrun');
      expect(p.spec.trustPolicies[0].registryScopes).toEqual(['registry.example/team-a/api']);
    }
    expect(storeCertificates(find(manifests, 'TrustStore', 'team-notary-both-signers-1', 'team-a'))).toEqual([
      pem('ca.crt'),
    ]);
    expect(storeCertificates(find(manifests, 'TrustStore', 'team-notary-both-signers-2', 'team-a'))).toEqual([
      pem('selfsigned.crt'),
    ]);
  });

  it('says what it widened and what it left out', () => {
    expect(warnings(notes)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('pattern "registry.example/tools/*" cannot be written as Notary registry scopes'),
        expect.stringContaining('type Cosign is not carried over'),
        expect.stringMatching(/certificate ".*Imported Signer.*" left out/),
      ]),
    );
    expect(notes.map((n) => n.message)).toContain('1 rule(s) without verifyImages are not carried over');
  });
});

describe('import kyverno: never looser than the original', () => {
  it('keeps an exact repository as its scope', () => {
    const { manifests } = convertKyverno([
      clusterPolicy(notaryRule({ attestors: [{ entries: [certEntry('ca.crt')] }] })),
    ]);
    expect(find(manifests, 'ClusterTrustPolicy', 'notary-verify').spec.trustPolicies[0].registryScopes).toEqual([
      'registry.example/app',
    ]);
    expect(checkManifests(manifests)).toEqual([]);
  });

  it('makes a required entry it cannot carry over (a Cosign key) a policy that stays invalid, so it blocks rather than admits', () => {
    const { manifests, notes } = convertKyverno([
      clusterPolicy(notaryRule({ attestors: [{ entries: [certEntry('ca.crt'), { keys: { publicKeys: 'k' } }] }] })),
    ]);
    expect(checkManifests(manifests)).toMatchObject([
      { id: { kind: 'ClusterTrustPolicy', name: 'notary-verify-2' }, code: 'ERR_TRUSTSTORE_NOT_FOUND' },
    ]);
    expect(warnings(notes).join('\n')).toContain('a keys attestor is not carried over');
  });

  it('drops an unconvertible alternative of a count: 1 set (fewer alternatives is stricter) and says so', () => {
    const { manifests, notes } = convertKyverno([
      clusterPolicy(
        notaryRule({ attestors: [{ count: 1, entries: [certEntry('ca.crt'), { keyless: { roots: 'x' } }] }] }),
      ),
    ]);
    expect(checkManifests(manifests)).toEqual([]);
    expect(warnings(notes).join('\n')).toContain('no longer alternatives');
  });

  it('requires every entry when count asks for some of them', () => {
    const { manifests, notes } = convertKyverno([
      clusterPolicy(
        notaryRule({
          attestors: [
            { count: 2, entries: [certEntry('ca.crt'), certEntry('selfsigned.crt'), certEntry('tsa-root.crt')] },
          ],
        }),
      ),
    ]);
    expect(manifests.filter((m) => m['kind'] === 'ClusterTrustPolicy')).toHaveLength(3);
    expect(warnings(notes).join('\n')).toContain('count 2 of 3 entries: Portcullis requires every entry (stricter)');
  });

  it('covers every namespace when the match names namespaces by wildcard, and says so', () => {
    const { manifests, notes } = convertKyverno([
      clusterPolicy({
        match: { any: [{ resources: { kinds: ['Pod'], namespaces: ['team-*'] } }] },
        ...notaryRule({ attestors: [{ entries: [certEntry('ca.crt')] }] }),
      }),
    ]);
    expect(find(manifests, 'ClusterTrustPolicy', 'notary-verify').spec.namespaceSelector).toBeUndefined();
    expect(warnings(notes).join('\n')).toContain('has wildcards');
  });

  it('does not take a pattern in skipImageReferences as a skip', () => {
    const { manifests, notes } = convertKyverno([
      clusterPolicy(
        notaryRule({ skipImageReferences: ['registry.example/*'], attestors: [{ entries: [certEntry('ca.crt')] }] }),
      ),
    ]);
    expect(find(manifests, 'ClusterTrustPolicy', 'notary-verify').spec.trustPolicies).toHaveLength(1);
    expect(warnings(notes).join('\n')).toContain('is not an exact repository: not carried over');
  });

  it('writes the enforcementAction asked for over the policy', () => {
    const { manifests } = convertKyverno(
      [clusterPolicy(notaryRule({ attestors: [{ entries: [certEntry('ca.crt')] }] }))],
      {
        enforcementAction: 'warn',
      },
    );
    expect(find(manifests, 'ClusterTrustPolicy', 'notary-verify').spec.enforcementAction).toBe('warn');
  });
});

describe('import kyverno: ImageValidatingPolicy notary attestors', () => {
  const { manifests, notes } = convertKyverno(fixture('kyverno-ivpol.yaml'));

  it('writes the certs and tsaCerts as ca and tsa stores of a strict statement over the matched images', () => {
    expect(checkManifests(manifests)).toEqual([]);
    const policy = find(manifests, 'ClusterTrustPolicy', 'check-images');
    expect(policy.spec).toMatchObject({
      enforcementAction: 'dryrun',
      namespaceSelector: { matchExpressions: [{ key: 'signed-images', operator: 'In', values: ['required'] }] },
      trustPolicies: [
        {
          name: 'notary',
          registryScopes: ['registry.example/app'],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:check-images', 'tsa:check-images-tsa'],
          trustedIdentities: ['*'],
        },
      ],
    });
    expect(storeCertificates(find(manifests, 'ClusterTrustStore', 'check-images-tsa'))).toEqual([pem('tsa-root.crt')]);
  });

  it('says that the CEL validations and the attestations were not interpreted', () => {
    expect(warnings(notes)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('validations (CEL) are not interpreted'),
        expect.stringContaining('attestations (signed SBOMs, in-toto statements) are not carried over'),
      ]),
    );
  });
});
