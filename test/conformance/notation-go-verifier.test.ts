import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrustStores } from '../../src/notation-config/trust-store-dir.js';
import { parseEnvelope, parsePayload } from '../../src/envelope/index.js';
import { ProcessVerificationPlugins } from '../../src/plugin/index.js';
import { loadBlobTrustPolicy, loadTrustPolicy } from '../../src/policy/index.js';
import type { TrustPolicyStatement } from '../../src/policy/types.js';
import { checkAuthenticTimestamp } from '../../src/verify/checks/authentic-timestamp.js';
import { verifyArtifact, verifyBlob, verifySignature, type TrustStores } from '../../src/verify/index.js';
import { CertificateCache, parseCertificateFile } from '../../src/x509/certificate.js';
import { vector } from '../helpers/vectors.js';
import { installTestVerifier } from '../helpers/plugins.js';

// INDEX.md §B: notation-go verifier vectors, run through the Portcullis verification core.
const JWS = 'application/jose+json';
const MOCK_ARTIFACT = {
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  digest: 'sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e',
  size: 528,
};
const mock = (file: string) => new Uint8Array(readFileSync(vector('notation-go/mock', file)));

function mockStatement(overrides: Record<string, unknown> = {}, level = 'strict'): TrustPolicyStatement {
  const policy = loadTrustPolicy(
    JSON.stringify({
      version: '1.0',
      trustPolicies: [
        {
          name: 'test-statement-name',
          registryScopes: ['registry.acme-rockets.io/software/net-monitor'],
          signatureVerification: { level },
          trustStores: ['ca:valid-trust-store', 'signingAuthority:valid-trust-store'],
          trustedIdentities: ['x509.subject:CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US'],
          ...overrides,
        },
      ],
    }),
  );
  return policy.statements[0] as TrustPolicyStatement;
}

let stores: TrustStores;
beforeAll(async () => {
  // The notation-go test trust store tree, read by the same loader the CLI uses.
  stores = await loadTrustStores(
    vector('notation-go'),
    [
      { type: 'ca', name: 'valid-trust-store' },
      { type: 'ca', name: 'valid-trust-store-2' },
      { type: 'signingAuthority', name: 'valid-trust-store' },
      { type: 'signingAuthority', name: 'valid-trust-store-2' },
      { type: 'tsa', name: 'test-timestamp' },
      { type: 'tsa', name: 'test-mismatch' },
    ],
    new CertificateCache(),
  );
});

async function verifyMock(envelope: Uint8Array, statement: TrustPolicyStatement, mediaType = JWS) {
  return verifySignature(
    { signature: 'sha256:vector', envelopeMediaType: mediaType, envelope, artifact: MOCK_ARTIFACT },
    { statement, trustStores: stores, at: new Date() },
  );
}

const statuses = (r: Awaited<ReturnType<typeof verifyMock>>) =>
  Object.fromEntries(r.checks.map((c) => [c.check, c.status]));

describe('conformance: notation-go verifier vectors (INDEX §B)', () => {
  it.each(['strict', 'permissive', 'audit'])('B1 ca_valid_sig_env.json verifies at level %s', async (level) => {
    const r = await verifyMock(mock('ca_valid_sig_env.json'), mockStatement({}, level));
    expect(r.passed).toBe(true);
    expect(statuses(r)).toMatchObject({
      integrity: 'passed',
      authenticity: 'passed',
      expiry: 'passed',
      authenticTimestamp: 'passed',
    });
  });

  it('B1 fails with "content descriptor mismatch" against another artifact', async () => {
    const r = await verifySignature(
      {
        signature: 's',
        envelopeMediaType: JWS,
        envelope: mock('ca_valid_sig_env.json'),
        artifact: { ...MOCK_ARTIFACT, size: 529 },
      },
      { statement: mockStatement(), trustStores: stores, at: new Date() },
    );
    expect(r.failure?.error.code).toBe('ERR_PAYLOAD_MISMATCH');
    expect(r.failure?.error.message).toContain('content descriptor mismatch');
  });

  it.each(['strict', 'permissive', 'audit'])(
    'B2 a padded base64url payload fails integrity at level %s',
    async (level) => {
      const r = await verifyMock(mock('ca_invalid_sig_env.json'), mockStatement({}, level));
      expect(r.passed).toBe(false);
      expect(r.failure?.check).toBe('integrity');
    },
  );

  it('B3 an expired signature fails expiry under strict', async () => {
    const r = await verifyMock(mock('ca_expired_sig_env.json'), mockStatement());
    expect(r.failure?.check).toBe('expiry');
    expect(r.failure?.error.code).toBe('ERR_SIGNATURE_EXPIRED');
    expect(r.failure?.error.message).toBe('digital signature has expired on "Fri, 29 Jul 2022 23:59:00 +0000"');
  });

  it.each(['permissive', 'audit'])('B3 an expired signature is only logged at level %s', async (level) => {
    const r = await verifyMock(mock('ca_expired_sig_env.json'), mockStatement({}, level));
    expect(r.passed).toBe(true);
    expect(statuses(r).expiry).toBe('logged');
  });

  it.each([
    ['strict', false],
    ['permissive', false],
    ['audit', true],
  ] as const)('B4 a chain not in the stores fails authenticity at level %s (passes: %s)', async (level, passes) => {
    const r = await verifyMock(
      mock('ca_valid_sig_env.json'),
      mockStatement({ trustStores: ['ca:valid-trust-store-2', 'signingAuthority:valid-trust-store-2'] }, level),
    );
    expect(r.passed).toBe(passes);
    const authenticity = r.checks.find((c) => c.check === 'authenticity');
    expect(authenticity?.status).toBe(passes ? 'logged' : 'failed');
    expect(authenticity?.error?.message).toContain(
      "the signature's certificate chain does not contain any trusted certificate",
    );
  });

  it('B5 a trust store without separator invalidates the policy', () => {
    expect(() => mockStatement({ trustStores: ['ca:valid-trust-store-2', 'signingAuthority'] })).toThrow(
      expect.objectContaining({ code: 'ERR_POLICY_INVALID', message: expect.stringContaining('"signingAuthority"') }),
    );
  });

  it.each(['strict', 'permissive'])('B6 an identity mismatch fails authenticity at level %s', async (level) => {
    const r = await verifyMock(
      mock('ca_valid_sig_env.json'),
      mockStatement({ trustedIdentities: ['x509.subject:CN=LOL,O=DummyOrg,L=Hyderabad,ST=TG,C=IN'] }, level),
    );
    expect(r.failure?.error.code).toBe('ERR_IDENTITY_MISMATCH');
    expect(r.failure?.error.message).toContain(
      'signing certificate from the digital signature does not match the X.509 trusted identities [map["C":"IN" "CN":"LOL" "L":"Hyderabad" "O":"DummyOrg" "ST":"TG"]] defined in the trust policy "test-statement-name"',
    );
  });

  it('B7 an empty x509.subject identity invalidates the policy', () => {
    expect(() => mockStatement({ trustedIdentities: ['x509.subject:'] })).toThrow(
      expect.objectContaining({
        message: expect.stringContaining(
          'trust policy statement "test-statement-name" has trusted identity "x509.subject:" without an identity value',
        ),
      }),
    );
  });

  it('B8 an unsupported envelope media type fails integrity', async () => {
    const r = await verifyMock(new Uint8Array(0), mockStatement(), 'application/unsupported+json');
    expect(r.failure?.check).toBe('integrity');
    expect(r.failure?.error.code).toBe('ERR_ENVELOPE_UNSUPPORTED');
    expect(r.failure?.error.message).toContain(
      'signature envelope format with media type "application/unsupported+json" is not supported',
    );
  });

  // B9-B14 need a verification plugin: the signatures name one, so they are verified through a
  // real plugin executable (test/fixtures/plugins/notation-testverifier.cjs) installed under the
  // name the vector asks for, as notation-go's tests install their mock plugin.
  describe('B9-B14 signatures that name a verification plugin', () => {
    const pluginsDir = mkdtempSync(join(tmpdir(), 'portcullis-conformance-plugins-'));
    const install = (name: string, behaviour: Record<string, string>): void =>
      void installTestVerifier(pluginsDir, name, behaviour);
    const plugins = () => new ProcessVerificationPlugins({ directory: pluginsDir });
    afterAll(() => rmSync(pluginsDir, { recursive: true, force: true }));

    it('B9 fails when its plugin is not installed', async () => {
      const empty = mkdtempSync(join(tmpdir(), 'portcullis-no-plugins-'));
      const r = await verifySignature(
        { signature: 's', envelopeMediaType: JWS, envelope: mock('ca_plugin_sig_env.json'), artifact: MOCK_ARTIFACT },
        {
          statement: mockStatement(),
          trustStores: stores,
          at: new Date(),
          plugins: new ProcessVerificationPlugins({ directory: empty }),
        },
      );
      rmSync(empty, { recursive: true, force: true });
      expect(r.passed).toBe(false);
      expect(r.failure?.error.code).toBe('ERR_PLUGIN_REQUIRED');
      expect(r.failure?.error.message).toContain('error while locating the verification plugin');
    });

    describe('B9 ca_plugin_sig_env.json (plugin "plugin-name", critical extended attribute SomeKey)', () => {
      const run = async (behaviour: Record<string, string>) => {
        install('plugin-name', behaviour);
        return verifySignature(
          { signature: 's', envelopeMediaType: JWS, envelope: mock('ca_plugin_sig_env.json'), artifact: MOCK_ARTIFACT },
          { statement: mockStatement(), trustStores: stores, at: new Date(), plugins: plugins() },
        );
      };

      it('verifies with a plugin that verifies the identity and processes SomeKey', async () => {
        const r = await run({
          capabilities: 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY',
          identity: 'success',
          process: 'SomeKey',
        });
        expect(r.passed).toBe(true);
        expect(r.details?.plugin).toMatchObject({
          name: 'plugin-name',
          capabilities: ['SIGNATURE_VERIFIER.TRUSTED_IDENTITY'],
        });
      });

      it('fails when the plugin does not process SomeKey', async () => {
        const r = await run({ capabilities: 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY', identity: 'success', process: '' });
        expect(r.failure?.error.code).toBe('ERR_ENVELOPE_CRITICAL_UNKNOWN');
        expect(r.failure?.error.message).toContain(
          'extended critical attribute "SomeKey" was not processed by the verification plugin "plugin-name"',
        );
      });

      it('fails when the plugin has no SIGNATURE_VERIFIER capability', async () => {
        const r = await run({ capabilities: 'SIGNATURE_GENERATOR.RAW' });
        expect(r.failure?.error.code).toBe('ERR_PLUGIN_REQUIRED');
        expect(r.failure?.error.message).toBe(
          'digital signature requires plugin "plugin-name" with signature verification capabilities ("SIGNATURE_VERIFIER.TRUSTED_IDENTITY" and/or "SIGNATURE_VERIFIER.REVOCATION_CHECK") installed',
        );
      });

      it('fails authenticity when the plugin rejects the identity', async () => {
        const r = await run({ capabilities: 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY', identity: 'fail', process: '*' });
        expect(r.failure?.check).toBe('authenticity');
        expect(r.failure?.error.code).toBe('ERR_PLUGIN_REJECTED');
      });
    });

    describe('B10-B14 verificationPluginMinVersion against an installed plugin 1.0.0', () => {
      // INDEX.md: the wabbit-networks.io envelopes, their policy, the plugin io.cncf.notary.plugin.unittest.mock.
      const WABBIT = {
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        digest: 'sha256:fe7e9333395060c2f5e63cf36a38fba10176f183b4163a5794e081a480abba5f',
        size: 942,
      };
      const wabbitStatement = () =>
        loadTrustPolicy(
          JSON.stringify({
            version: '1.0',
            trustPolicies: [
              {
                name: 'wabbit-networks-images',
                registryScopes: ['localhost:5000/net-monitor'],
                signatureVerification: { level: 'strict' },
                trustStores: ['ca:valid-trust-store'],
                trustedIdentities: ['x509.subject: CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US'],
              },
            ],
          }),
        ).statements[0] as TrustPolicyStatement;
      beforeAll(() =>
        install('io.cncf.notary.plugin.unittest.mock', {
          version: '1.0.0',
          capabilities: 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY',
          identity: 'success',
        }),
      );

      it.each([
        ['B10', 'ca_compatible_pluginver_sig_env_0.0.9.json', undefined],
        ['B11', 'ca_compatible_pluginver_sig_env_1.0.0.json', undefined],
        ['B12', 'ca_compatible_pluginver_sig_env_1.0.0-alpha.beta.json', undefined],
        ['B13', 'ca_incompatible_pluginver_sig_env_1.0.9.json', '1.0.9'],
        ['B14', 'ca_incompatible_pluginver_sig_env_1.2.3.json', '1.2.3'],
      ])('%s %s', async (_id, file, tooNew) => {
        const r = await verifySignature(
          { signature: 's', envelopeMediaType: JWS, envelope: mock(file), artifact: WABBIT },
          { statement: wabbitStatement(), trustStores: stores, at: new Date(), plugins: plugins() },
        );
        if (tooNew === undefined) {
          expect(r.failure).toBeUndefined();
          expect(r.passed).toBe(true);
        } else {
          expect(r.passed).toBe(false);
          expect(r.failure?.error.code).toBe('ERR_PLUGIN_VERSION');
          expect(r.failure?.error.message).toBe(
            `found plugin io.cncf.notary.plugin.unittest.mock with version 1.0.0 but signature verification needs plugin version greater than or equal to ${tooNew}`,
          );
        }
      });
    });
  });

  describe('B15 blob signature', () => {
    const envelope = new Uint8Array(readFileSync(vector('notation-go/blob/testSig.jws.sig')));
    const blobDigest =
      'sha384:b8ab24dafba5cf7e4c89c562f811cf10493d4203da982d3b1345f366ca863d9c2ed323dbd0fb7ff83a80302ceffa5a61';
    const blob = { mediaType: 'video/mp4', digest: blobDigest, size: 12 };
    const trusted = parseCertificateFile(new Uint8Array(readFileSync(vector('notation-go/blob/trustedCert.pem'))));
    const blobStores: TrustStores = {
      get: (type, name) => (type === 'ca' && name === 'dummy-ts' ? trusted : undefined),
    };
    const statement = (level = 'strict'): TrustPolicyStatement => {
      const p = loadBlobTrustPolicy(
        JSON.stringify({
          version: '1.0',
          trustPolicies: [
            {
              name: 'blob-test-policy',
              signatureVerification: { level },
              trustStores: ['ca:dummy-ts'],
              trustedIdentities: ['*'],
            },
          ],
        }),
      );
      return { ...(p.statements[0] as object), registryScopes: [] } as unknown as TrustPolicyStatement;
    };
    const run = (artifact = blob, userMetadata?: Record<string, string>, bytes = envelope) =>
      verifySignature(
        {
          signature: 'blob',
          envelopeMediaType: JWS,
          envelope: bytes,
          artifact,
          ...(userMetadata === undefined ? {} : { userMetadata }),
        },
        { statement: statement(), trustStores: blobStores, at: new Date() },
      );

    it('B15-1 verifies', async () => expect((await run()).passed).toBe(true));
    it('B15-2 verifies with the required metadata buildId=101', async () =>
      expect((await run(blob, { buildId: '101' })).passed).toBe(true));
    it('B15-4 fails when the blob digest differs', async () => {
      const r = await run({ ...blob, digest: `${blobDigest.slice(0, -2)}62` });
      expect(r.failure?.error.code).toBe('ERR_PAYLOAD_MISMATCH');
    });
    it('B15-5 fails to parse empty signature bytes', async () => {
      const r = await run(blob, undefined, new Uint8Array(0));
      expect(r.failure?.check).toBe('integrity');
      expect(r.failure?.error.code).toBe('ERR_ENVELOPE_MALFORMED');
    });
    it('B15-6 fails when required metadata has another value', async () => {
      const r = await run(blob, { buildId: 'zzz' });
      expect(r.failure?.error.code).toBe('ERR_METADATA_MISMATCH');
      expect(r.failure?.error.message).toContain('unable to find specified metadata in the signature');
    });
    describe('through the blob workflow (verifyBlob: the digest algorithm from the signing key)', () => {
      const blobPolicy = (level = 'strict') =>
        loadBlobTrustPolicy(
          JSON.stringify({
            version: '1.0',
            trustPolicies: [
              level === 'skip'
                ? { name: 'blob-test-policy', signatureVerification: { level } }
                : {
                    name: 'blob-test-policy',
                    signatureVerification: { level },
                    trustStores: ['ca:dummy-ts'],
                    trustedIdentities: ['*'],
                  },
            ],
          }),
        );
      // The 12-byte blob itself is not in the vectors: a stand-in that answers with its digest.
      const asked: string[] = [];
      const input = (digest = blobDigest) => ({
        size: 12,
        digest: async (algorithm: string) => {
          asked.push(algorithm);
          return algorithm === 'sha384' ? digest : `${algorithm}:0`;
        },
      });
      const verify = (request: Partial<Parameters<typeof verifyBlob>[0]> = {}, level = 'strict', policyName?: string) =>
        verifyBlob(
          { signatureMediaType: JWS, envelope, blob: input(), ...request },
          {
            policy: blobPolicy(level),
            trustStores: blobStores,
            at: new Date(),
            ...(policyName === undefined ? {} : { policyName }),
          },
        );

      it('B15-1 verifies, hashing the blob with sha384 (the RSA-3072 key), media type unchecked unless given', async () => {
        asked.length = 0;
        const r = await verify({}, 'strict', 'blob-test-policy');
        expect(r.verified).toBe(true);
        expect(asked).toEqual(['sha384']);
        expect(r.blob).toEqual(blob);
        expect(r.userMetadata).toEqual({ buildId: '101' });
      });
      it('B15-2 verifies with the required metadata', async () =>
        expect((await verify({ userMetadata: { buildId: '101' } }, 'strict', 'blob-test-policy')).verified).toBe(true));
      it('B15-3 skip succeeds without reading the signature', async () => {
        const r = await verify({ envelope: new Uint8Array(0) }, 'skip', 'blob-test-policy');
        expect(r).toMatchObject({ verified: true, skipped: true });
      });
      it('B15-4 fails for another blob', async () => {
        const r = await verify({ blob: input(`${blobDigest.slice(0, -2)}62`) }, 'strict', 'blob-test-policy');
        expect(r).toMatchObject({ verified: false, failedCheck: 'integrity' });
        expect(r.error?.code).toBe('ERR_PAYLOAD_MISMATCH');
      });
      it('B15-5 fails to parse an empty signature', async () => {
        const r = await verify({ envelope: new Uint8Array(0) }, 'strict', 'blob-test-policy');
        expect(r).toMatchObject({ verified: false, failedCheck: 'integrity' });
      });
      it('B15-6 fails for metadata with another value', async () => {
        const r = await verify({ userMetadata: { buildId: 'zzz' } }, 'strict', 'blob-test-policy');
        expect(r.error?.code).toBe('ERR_METADATA_MISMATCH');
      });
      it('fails for a media type the signature does not give the blob', async () => {
        const r = await verify({ mediaType: 'application/zip' }, 'strict', 'blob-test-policy');
        expect(r.error?.code).toBe('ERR_PAYLOAD_MISMATCH');
        expect((await verify({ mediaType: 'video/mp4' }, 'strict', 'blob-test-policy')).verified).toBe(true);
      });
      it('without a policy name and without a global statement there is no applicable statement', async () => {
        await expect(verify()).rejects.toMatchObject({ code: 'ERR_POLICY_NO_MATCH' });
      });
    });

    it('B15-3 level skip succeeds without evaluating the signature', async () => {
      const policy = loadTrustPolicy(
        JSON.stringify({
          version: '1.0',
          trustPolicies: [{ name: 'skip', registryScopes: ['*'], signatureVerification: { level: 'skip' } }],
        }),
      );
      const r = await verifyArtifact(
        { reference: 'blob', repository: 'any', artifact: blob },
        {
          policy,
          trustStores: blobStores,
          at: new Date(),
          source: {
            listSignatures: async () => [],
            fetchManifest: async () => new Uint8Array(),
            fetchBlob: async () => new Uint8Array(),
          },
        },
      );
      expect(r).toMatchObject({ verified: true, skipped: true });
    });
  });

  describe('B16 RFC 3161 timestamped envelopes (authenticTimestamp)', () => {
    const sig = (file: string) => new Uint8Array(readFileSync(vector('notation-go/timestamp/sigEnv', file)));
    const tsStatement = (trustStores = ['ca:valid-trust-store', 'tsa:test-timestamp']) =>
      loadTrustPolicy(
        JSON.stringify({
          version: '1.0',
          trustPolicies: [
            {
              name: 'test-timestamp',
              registryScopes: ['*'],
              signatureVerification: { level: 'strict', verifyTimestamp: 'always' },
              trustStores,
              trustedIdentities: ['*'],
            },
          ],
        }),
      ).statements[0] as TrustPolicyStatement;
    const authenticTimestamp = (file: string, statement = tsStatement()) =>
      checkAuthenticTimestamp(parseEnvelope(JWS, sig(file)), statement, stores, new Date());

    it('B16-1 a GlobalSign-timestamped signature verifies end to end (revocation not checked: no network)', async () => {
      const envelope = sig('jwsWithTimestamp.sig');
      const target = parsePayload(parseEnvelope(JWS, envelope).payload).targetArtifact;
      expect(target.digest).toMatch(/^sha256:c0669ef3.*0bda$/);
      const r = await verifySignature(
        { signature: 's', envelopeMediaType: JWS, envelope, artifact: target },
        { statement: tsStatement(), trustStores: stores, at: new Date() },
      );
      expect(r.passed).toBe(true);
      expect(statuses(r)).toMatchObject({ authenticTimestamp: 'passed', revocation: 'skipped' });
      expect(r.details?.timestamp?.genTime.toISOString()).toBe('2024-06-18T06:29:37.000Z');
    });

    it('B16-2 a signature whose certificate expired after the timestamp passes the timestamp check', () => {
      expect(authenticTimestamp('jwsExpiredWithTimestamp.sig').error).toBeUndefined();
    });

    it('B16-3 a tsa store without separator invalidates the policy', () => {
      expect(() => tsStatement(['ca:valid-trust-store', 'tsa'])).toThrow(
        expect.objectContaining({ code: 'ERR_POLICY_INVALID' }),
      );
    });

    it('B16-4 a required timestamp that is missing fails', () => {
      const { error } = authenticTimestamp('withoutTimestamp.sig');
      expect(error?.code).toBe('ERR_TIMESTAMP_MISSING');
      expect(error?.message).toBe('no timestamp countersignature was found in the signature envelope');
    });

    it('B16-8 a timestamp before the signing certificate validity fails', () => {
      const { error } = authenticTimestamp('timestampBeforeNotBefore.sig');
      expect(error?.code).toBe('ERR_TIMESTAMP_OUTSIDE_VALIDITY');
      expect(error?.message).toBe(
        'timestamp can be before certificate "CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US" validity period, it will be valid from "Fri, 18 Sep 2099 11:54:34 +0000"',
      );
    });

    it('B17-9 a tsa store with another root does not anchor the GlobalSign timestamp', () => {
      const { error } = authenticTimestamp(
        'jwsWithTimestamp.sig',
        tsStatement(['ca:valid-trust-store', 'tsa:test-mismatch']),
      );
      expect(error?.code).toBe('ERR_TIMESTAMP_UNTRUSTED');
    });

    it('B17-8 a tsa store never stands in for the ca store the signing scheme needs', async () => {
      const r = await verifyMock(mock('ca_valid_sig_env.json'), mockStatement({ trustStores: ['tsa:test-timestamp'] }));
      expect(r.failure?.error.code).toBe('ERR_TRUSTSTORE_EMPTY_FOR_SCHEME');
    });
  });
});
