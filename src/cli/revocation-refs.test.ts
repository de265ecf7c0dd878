import { describe, expect, it } from 'vitest';
import { loadTrustPolicy } from '../policy/index.js';
import { buildSnapshot } from '../policyset/index.js';
import { requirementsFromFlags } from './image-requirements.js';
import { WebhookRevocationMaterial, materialFromSnapshot, parseObjectRef } from './revocation-refs.js';

const snapshot = (objects: unknown[]) => buildSnapshot({ resources: objects, revision: 1 });
const configMap = (name: string, data: Record<string, string>, binaryData?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'portcullis' },
  data,
  ...(binaryData === undefined ? {} : { binaryData }),
});

describe('revocation material from Secrets and ConfigMaps', () => {
  it('reads ConfigMap/<ns>/<name> and Secret/<ns>/<name>', () => {
    expect(parseObjectRef('ConfigMap/portcullis/crls')).toEqual({
      kind: 'ConfigMap',
      namespace: 'portcullis',
      name: 'crls',
    });
    expect(() => parseObjectRef('Deployment/a/b')).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
  });

  it('reports what it cannot use, naming the object and key, and never throws', () => {
    const material = materialFromSnapshot(
      snapshot([configMap('crls', { 'ca.crl': 'not a CRL', 'notes.txt': 'hello' }, { 'bad.ocsp': '***' })]),
      [
        { kind: 'ConfigMap', namespace: 'portcullis', name: 'crls' },
        { kind: 'Secret', namespace: 'portcullis', name: 'absent' },
      ],
    );
    expect(material.size).toEqual({ crls: 0, ocspResponses: 0 });
    expect(material.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('ConfigMap portcullis/crls key notes.txt: neither *.crl nor *.ocsp'),
        expect.stringContaining('ConfigMap portcullis/crls key bad.ocsp: the value is not valid base64'),
        expect.stringContaining('ConfigMap portcullis/crls key ca.crl'),
        expect.stringContaining('Secret portcullis/absent: not found'),
      ]),
    );
  });

  it('is consulted only when configured, and re-reads with each snapshot', () => {
    expect(new WebhookRevocationMaterial({ refs: [] }).configured).toBe(false);
    const loads: number[] = [];
    const m = new WebhookRevocationMaterial({
      refs: ['ConfigMap/portcullis/crls'],
      onLoad: (loaded) => loads.push(loaded.problems.length),
    });
    expect(m.configured).toBe(true);
    m.update(snapshot([]));
    m.update(snapshot([configMap('crls', {})]));
    expect(loads).toEqual([1, 0]);
    expect(m.current()).toBe(m.current());
  });
});

describe('verify flags for images', () => {
  const policy = loadTrustPolicy(
    JSON.stringify({
      version: '1.0',
      trustPolicies: [
        {
          name: 'images',
          registryScopes: ['*'],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:x'],
          trustedIdentities: ['*'],
        },
      ],
    }),
  );
  const statement = policy.statements[0]!;

  it('default to any-of-index-or-all and no required artifact', () => {
    expect(requirementsFromFlags({}, policy, statement)).toEqual({
      platforms: 'any-of-index-or-all',
      requiredArtifacts: [],
    });
  });

  it.each([
    [{ platforms: 'some' }, '--platforms "some" is not one of'],
    [{ artifactPolicy: 'images' }, 'need --require-artifact'],
    [{ requireArtifact: ['sbom'] }, 'is not a media type'],
    [{ requireArtifact: ['application/spdx+json'], artifactPolicy: 'nope' }, 'which the document does not have'],
    [{ requireArtifact: ['application/spdx+json'], artifactMaxAge: '2 weeks' }, '--artifact-max-age'],
  ])('reject %j, naming the flag', (flags, words) => {
    expect(() => requirementsFromFlags(flags, policy, statement)).toThrow(
      expect.objectContaining({ code: 'ERR_INPUT_INVALID', message: expect.stringContaining(words) }),
    );
  });
});
