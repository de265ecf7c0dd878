import { describe, expect, it } from 'vitest';
import { buildSnapshot } from '../policyset/index.js';
import { checkManifests } from './check.js';
import { convertRatify } from './ratify.js';
import { find, fixture, pem, storeCertificates } from '../../test/helpers/migrate.js';
import type { ConversionNote, InputObject } from './types.js';

const warnings = (notes: readonly ConversionNote[]) => notes.filter((n) => n.level === 'warning');
const inline = (name: string, value: string, namespace?: string): InputObject => ({
  origin: `inline#${name}`,
  object: {
    apiVersion: 'config.ratify.deislabs.io/v1beta1',
    kind: namespace === undefined ? 'KeyManagementProvider' : 'NamespacedKeyManagementProvider',
    metadata: { name, ...(namespace === undefined ? {} : { namespace }) },
    spec: { type: 'inline', parameters: { contentType: 'certificate', value } },
  },
});
const verifier = (name: string, certStores: unknown, trustStores: string[]): InputObject => ({
  origin: `inline#${name}`,
  object: {
    apiVersion: 'config.ratify.deislabs.io/v1beta1',
    kind: 'Verifier',
    metadata: { name },
    spec: {
      name: 'notation',
      artifactTypes: 'application/vnd.cncf.notary.signature',
      parameters: {
        verificationCertStores: certStores,
        trustPolicyDoc: {
          version: '1.0',
          trustPolicies: [
            {
              name: 'default',
              registryScopes: ['*'],
              signatureVerification: { level: 'strict' },
              trustStores,
              trustedIdentities: ['*'],
            },
          ],
        },
      },
    },
  },
});

describe('import ratify: v1 notation verifiers and key management providers', () => {
  const conversion = convertRatify(fixture('ratify-v1.yaml'));
  const { manifests, notes } = conversion;

  it('converts every resource into manifests Portcullis takes as valid', () => {
    expect(manifests.map((m) => m['kind']).sort()).toEqual([
      'ClusterTrustPolicy',
      'ClusterTrustStore',
      'ClusterTrustStore',
      'TrustPolicy',
      'TrustStore',
    ]);
    expect(checkManifests(manifests)).toEqual([]);
  });

  it('turns the cluster Verifier into a ClusterTrustPolicy with its document and stores', () => {
    const policy = find(manifests, 'ClusterTrustPolicy', 'verifier-notation');
    expect(policy.spec.enforcementAction).toBe('deny');
    expect(policy.spec.trustPolicies).toEqual([
      {
        name: 'default',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: ['ca:ca-certs', 'tsa:tsa-certs'],
        trustedIdentities: ['*'],
      },
    ]);
    expect(find(manifests, 'ClusterTrustStore', 'ca-certs').spec.type).toBe('ca');
    expect(storeCertificates(find(manifests, 'ClusterTrustStore', 'ca-certs'))).toEqual([pem('ca.crt')]);
    expect(storeCertificates(find(manifests, 'ClusterTrustStore', 'tsa-certs'))).toEqual([pem('tsa-root.crt')]);
  });

  it('leaves the namespaces with their own NamespacedVerifier out of the cluster policy, as Ratify falls back only where there is none', () => {
    const policy = find(manifests, 'ClusterTrustPolicy', 'verifier-notation');
    expect(policy.spec.namespaceSelector).toEqual({
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['team-a'] }],
    });
    const snapshot = buildSnapshot({ resources: manifests, revision: 1 });
    expect(snapshot.documentsFor('team-a').map((d) => d.id.name)).toEqual(['team-notation']);
    expect(snapshot.documentsFor('other').map((d) => d.id.name)).toEqual(['verifier-notation']);
  });

  it('turns the NamespacedVerifier into a TrustPolicy whose untyped store is a ca store in its namespace', () => {
    const policy = find(manifests, 'TrustPolicy', 'team-notation', 'team-a');
    expect(policy.spec.trustPolicies[0]).toMatchObject({
      name: 'team-app',
      registryScopes: ['registry.example/team-a/app'],
      signatureVerification: { level: 'permissive' },
      trustStores: ['ca:certs'],
    });
    const store = find(manifests, 'TrustStore', 'certs', 'team-a');
    expect(store.spec.type).toBe('ca');
    // team-a/kmp-team (namespaced) and kmp-root (cluster), without the leaf Ratify would ignore.
    expect(storeCertificates(store)).toEqual([pem('selfsigned.crt'), pem('ca.crt')]);
  });

  it('leaves out what a Notary trust store cannot hold, and what is not Notary, saying so', () => {
    const said = warnings(notes).map((n) => `${n.subject}: ${n.message}`);
    expect(said).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^KeyManagementProvider kmp-root .*Imported Signer.* left out: neither a CA nor self-signed/,
        ),
        expect.stringMatching(/^KeyManagementProvider kmp-key .*contentType "key" is not carried over/),
        expect.stringMatching(/^Verifier verifier-cosign .*"cosign" is not Ratify's Notary verifier/),
        expect.stringMatching(/^Store store-oras .*authProvider "k8Secrets" are not carried over/),
      ]),
    );
    expect(said.filter((s) => s.includes('Imported Signer'))).toHaveLength(1);
    expect(notes.find((n) => n.message.includes('not Ratify resources'))?.message).toContain('1 object(s)');
    expect(conversion.converted).toBeGreaterThanOrEqual(2);
  });

  it('writes the enforcementAction asked for', () => {
    const dry = convertRatify(fixture('ratify-v1.yaml'), { enforcementAction: 'dryrun' });
    for (const m of dry.manifests.filter((x) => String(x['kind']).endsWith('Policy'))) {
      expect((m['spec'] as { enforcementAction: string }).enforcementAction).toBe('dryrun');
    }
  });
});

describe('import ratify: what cannot be carried over fails closed', () => {
  it('writes no store for certificates in Azure Key Vault, so the policy is invalid and blocks until they are supplied', () => {
    const { manifests, notes } = convertRatify(fixture('ratify-v1-akv.yaml'));
    expect(manifests.map((m) => m['kind'])).toEqual(['ClusterTrustPolicy']);
    const invalid = checkManifests(manifests);
    expect(invalid).toMatchObject([
      { id: { kind: 'ClusterTrustPolicy', name: 'verifier-akv' }, code: 'ERR_TRUSTSTORE_NOT_FOUND' },
    ]);
    expect(buildSnapshot({ resources: manifests, revision: 1 }).invalidFor('any-namespace')).toHaveLength(1);
    expect(warnings(notes).map((n) => n.message)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('provider "azurekeyvault" fetches its certificates at run time'),
        expect.stringContaining('trust store ca:akv-certs gets no certificate'),
      ]),
    );
  });

  it('says which reference names no provider among the input files', () => {
    const { manifests, notes } = convertRatify([verifier('v', { ca: { certs: ['team-x/missing'] } }, ['ca:certs'])]);
    expect(warnings(notes).map((n) => n.message)).toContain(
      'trust store ca:certs: "team-x/missing" names no NamespacedKeyManagementProvider (namespace/name) among the input files',
    );
    expect(checkManifests(manifests)).toMatchObject([{ code: 'ERR_TRUSTSTORE_NOT_FOUND' }]);
  });
});

describe('import ratify: store names', () => {
  it('renames a store whose name is no Kubernetes object name, and the references to it', () => {
    const { manifests, notes } = convertRatify([
      inline('root', pem('ca.crt')),
      verifier('signed', { ca: { CA_Certs: ['root'] } }, ['ca:CA_Certs']),
    ]);
    expect(find(manifests, 'ClusterTrustStore', 'signed-ca-certs')).toBeDefined();
    expect(find(manifests, 'ClusterTrustPolicy', 'signed').spec.trustPolicies[0].trustStores).toEqual([
      'ca:signed-ca-certs',
    ]);
    expect(notes.map((n) => n.message)).toContain(
      'trust store ca:CA_Certs is written as signed-ca-certs (a Kubernetes object name)',
    );
    expect(checkManifests(manifests)).toEqual([]);
  });

  it('gives two verifiers that both call a store "certs" two stores when their certificates differ, and one when they agree', () => {
    const { manifests } = convertRatify([
      inline('a', pem('ca.crt')),
      inline('b', pem('selfsigned.crt')),
      verifier('one', { ca: { certs: ['a'] } }, ['ca:certs']),
      verifier('two', { ca: { certs: ['b'] } }, ['ca:certs']),
      verifier('three', { ca: { certs: ['a'] } }, ['ca:certs']),
    ]);
    expect(manifests.filter((m) => m['kind'] === 'ClusterTrustStore')).toHaveLength(2);
    expect(find(manifests, 'ClusterTrustPolicy', 'one').spec.trustPolicies[0].trustStores).toEqual(['ca:certs']);
    expect(find(manifests, 'ClusterTrustPolicy', 'two').spec.trustPolicies[0].trustStores).toEqual(['ca:certs-2']);
    expect(find(manifests, 'ClusterTrustPolicy', 'three').spec.trustPolicies[0].trustStores).toEqual(['ca:certs']);
    expect(storeCertificates(find(manifests, 'ClusterTrustStore', 'certs-2'))).toEqual([pem('selfsigned.crt')]);
    expect(checkManifests(manifests)).toEqual([]);
  });
});

describe('import ratify: v2 executors', () => {
  const { manifests, notes } = convertRatify(fixture('ratify-v2.yaml'));

  it('builds the strict statement Ratify builds from a notation verifier, with a store per type', () => {
    const policy = find(manifests, 'ClusterTrustPolicy', 'ratify-executor-1');
    expect(policy.spec.trustPolicies).toEqual([
      {
        name: 'default',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: ['ca:ratify-executor-1-notation-1', 'tsa:ratify-executor-1-notation-1-tsa'],
        trustedIdentities: ['x509.subject: C=US, ST=WA, O=Portcullis Test, CN=Imported Signer'],
      },
    ]);
    expect(policy.spec.namespaceSelector.matchExpressions[0]).toMatchObject({ operator: 'NotIn', values: ['team-b'] });
    expect(storeCertificates(find(manifests, 'ClusterTrustStore', 'ratify-executor-1-notation-1-tsa'))).toEqual([
      pem('tsa-root.crt'),
    ]);
    expect(checkManifests(manifests)).toEqual([]);
  });

  it('scopes a NamespacedExecutor by the executor scopes when its verifier has none', () => {
    const policy = find(manifests, 'TrustPolicy', 'team-b-executor', 'team-b');
    expect(policy.spec.trustPolicies[0]).toMatchObject({
      registryScopes: ['registry.example/team-b/api'],
      trustStores: ['ca:team-b-executor-notation'],
      trustedIdentities: ['*'],
    });
  });

  it('says that the wildcard scope was widened and the cosign verifier and Key Vault certificates were left out', () => {
    const messages = warnings(notes).map((n) => n.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringContaining('pattern "*.example.org" cannot be written as Notary registry scopes'),
        expect.stringContaining('verifier "cosign-1" of type "cosign" is not carried over'),
        expect.stringContaining('ca certificates from the "azurekeyvault" provider cannot be read by the importer'),
      ]),
    );
  });
});
