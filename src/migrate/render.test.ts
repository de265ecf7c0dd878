import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { checkManifests } from './check.js';
import { convertRatify } from './ratify.js';
import { renderYaml } from './render.js';

describe('the importers output', () => {
  it('keeps hostile names in the notes from ending the YAML comment or reaching the terminal', () => {
    const name = 'evil\r---\rapiVersion: v1\rkind: Secret\n\u001b[2Jx';
    const conversion = convertRatify([
      {
        origin: 'in.yaml#1',
        object: {
          apiVersion: 'config.ratify.deislabs.io/v1beta1',
          kind: 'Verifier',
          metadata: { name },
          spec: { name: 'cosign' },
        },
      },
      {
        origin: 'in.yaml#2',
        object: {
          apiVersion: 'config.ratify.deislabs.io/v1beta1',
          kind: 'Verifier',
          metadata: { name: 'ok' },
          spec: {
            name: 'notation',
            parameters: {
              trustPolicyDoc: {
                version: '1.0',
                trustPolicies: [{ name: 's', registryScopes: ['*'], signatureVerification: { level: 'skip' } }],
              },
            },
          },
        },
      },
    ]);
    const text = renderYaml('ratify', conversion, checkManifests(conversion.manifests));
    expect(text.includes('\r') || text.includes('\u001b')).toBe(false);
    const docs = parseAllDocuments(text).map((d) => d.toJS() as { kind: string });
    expect(docs.map((d) => d.kind)).toEqual(['ClusterTrustPolicy']);
    expect(text).toContain('# warning: Verifier evil ---');
  });
});
