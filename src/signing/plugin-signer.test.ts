import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pki, codeSigningChain, type CodeSigningChain } from '../../test/helpers/pki.js';
import { makeArtifact, payloadFor, verifyEnvelopeFor } from '../../test/helpers/signed.js';
import { TsaServer } from '../../test/helpers/tsa-server.js';
import { TestTsa } from '../../test/helpers/tsa.js';
import { parseEnvelope, type EnvelopeFormat } from '../envelope/index.js';
import type { SignRequest } from '../envelope/types.js';
import { PortcullisError } from '../errors/index.js';
import type { ArtifactVerification } from '../verify/index.js';
import { parseCertificate } from '../x509/certificate.js';
import { PluginError, locatePlugin } from '../plugin/index.js';
import { PluginSigner, signerForKey, type SignResult } from './signer.js';
import { TimestampClient } from './timestamp-client.js';
import { TEST_SIGNER, installPlugin } from '../../test/helpers/plugins.js';

const artifact = makeArtifact('plugin-signer');
const DAY = 86_400_000;

function request(extra: Partial<SignRequest> = {}): SignRequest {
  return { payload: payloadFor(artifact.descriptor), signingTime: new Date(Date.now() - 60_000), ...extra };
}

function verifyResult(result: SignResult, ca: Uint8Array, tsa?: Uint8Array): Promise<ArtifactVerification> {
  return verifyEnvelopeFor(artifact.descriptor, result, ca, tsa);
}

async function failure(attempt: () => Promise<unknown>): Promise<PortcullisError> {
  try {
    await attempt();
  } catch (error) {
    expect(error).toBeInstanceOf(PortcullisError);
    return error as PortcullisError;
  }
  throw new Error('expected a failure');
}

/** Installs the fixture as <configDir>/plugins/<name>/notation-<name>, as the tests' users would. */
function install(configDir: string, name: string, mode = 0o755): string {
  return installPlugin(TEST_SIGNER, join(configDir, 'plugins', name, `notation-${name}`), mode);
}

describe('PluginSigner with a real plugin executable', () => {
  const pki = new Pki();
  const configDir = mkdtempSync(join(tmpdir(), 'portcullis-plugins-'));
  let rsa: CodeSigningChain;
  let ec: CodeSigningChain;
  let other: CodeSigningChain;
  const files: Record<string, { keyPath: string; certPath: string }> = {};

  beforeAll(() => {
    rsa = codeSigningChain(pki, { leafKey: 'rsa-2048', name: 'Plugin RSA' });
    ec = codeSigningChain(pki, { leafKey: 'ec-384', name: 'Plugin EC' });
    other = codeSigningChain(pki, { leafKey: 'ec-384', name: 'Plugin Other' });
    for (const [name, chain] of Object.entries({ rsa, ec, other })) {
      const keyPath = join(configDir, `${name}.key`);
      const certPath = join(configDir, `${name}.crt`);
      writeFileSync(keyPath, chain.leaf.keyPem);
      writeFileSync(certPath, chain.leaf.certPem + chain.intermediate.certPem + chain.root.certPem);
      files[name] = { keyPath, certPath };
    }
    install(configDir, 'testsigner');
  });
  afterAll(() => {
    pki.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  const signer = (
    config: Record<string, string> = {},
    extra: Partial<ConstructorParameters<typeof PluginSigner>[0]> = {},
  ) =>
    new PluginSigner({
      configDir,
      pluginName: 'testsigner',
      keyId: 'key-1',
      pluginConfig: { ...files['ec'], ...config },
      timeoutMs: 20_000,
      ...extra,
    });

  it('reads and checks the plugin metadata', async () => {
    const metadata = await signer().metadata();
    expect(metadata).toMatchObject({
      name: 'testsigner',
      version: '1.0.0',
      supportedContractVersions: ['1.0'],
      capabilities: ['SIGNATURE_GENERATOR.RAW'],
    });
  });

  describe('SIGNATURE_GENERATOR.RAW', () => {
    it.each(['jws', 'cose'] as const)(
      'produces %s envelopes that verify, for RSA and EC keys',
      async (format: EnvelopeFormat) => {
        for (const [name, chain] of [
          ['rsa', rsa],
          ['ec', ec],
        ] as const) {
          const result = await signer(files[name]).sign(request(), format);
          expect(result.mediaType).toBe(format === 'jws' ? 'application/jose+json' : 'application/cose');
          expect(result.chain).toHaveLength(3);
          const parsed = parseEnvelope(result.mediaType, result.envelope);
          expect(parsed.algorithm).toBe(name === 'rsa' ? 'PS256' : 'ES384');
          const verified = await verifyResult(result, chain.root.certDer);
          expect(verified.error).toBeNull();
          expect(verified.verified).toBe(true);
        }
      },
    );

    it('timestamps the plugin signature with a real TSA', async () => {
      const tsa = new TestTsa({ pki });
      const server = await TsaServer.start(tsa);
      try {
        const timestampClient = new TimestampClient({ url: server.url, tsaRoots: [parseCertificate(tsa.rootDer)] });
        const result = await signer({}, { timestampClient }).sign(request(), 'cose');
        expect(parseEnvelope(result.mediaType, result.envelope).unsigned.timestampSignature).toBeDefined();
        const verified = await verifyResult(result, ec.root.certDer, tsa.rootDer);
        expect(verified.error).toBeNull();
        expect(verified.verified).toBe(true);
      } finally {
        await server.close();
      }
    });

    it.each([
      ['a signature that does not verify', { badSignature: 'true' }, 'does not verify with the leaf certificate'],
      [
        'a chain whose leaf is not the signing key',
        { chainPath: '@other' },
        'does not verify with the leaf certificate',
      ],
      ['a certificate not matching describe-key', { keySpec: 'EC-256' }, 'describe-key said EC-256'],
      ['an unsupported key spec', { keySpec: 'RSA-1024' }, 'key spec "RSA-1024" is not supported'],
      [
        'a signing algorithm not matching the key spec',
        { signingAlgorithm: 'ECDSA-SHA-256' },
        'does not match key spec EC-384',
      ],
      ['another key id', { responseKeyId: 'key-2' }, 'does not match the request'],
    ])('rejects %s', async (_what, config, message) => {
      const resolved = Object.fromEntries(
        Object.entries(config).map(([k, v]) => [k, v === '@other' ? (files['other']?.certPath as string) : v]),
      );
      const error = await failure(() => signer(resolved).sign(request(), 'jws'));
      expect(error.code).toBe('ERR_PLUGIN_FAILED');
      expect(error.message).toContain(message);
    });

    it('rejects a chain that does not meet the code-signing requirements', async () => {
      const leafOnly = join(configDir, 'ec-no-root.crt');
      writeFileSync(leafOnly, ec.leaf.certPem + ec.intermediate.certPem);
      const error = await failure(() => signer({ chainPath: leafOnly }).sign(request(), 'cose'));
      expect(error.code).toBe('ERR_PLUGIN_FAILED');
      expect(error.message).toContain('does not meet the Notary requirements');
      expect((error.cause as PortcullisError).code).toBe('ERR_CHAIN_INVALID');
    });

    it('rejects a chain not valid at the signing time', async () => {
      const expired = codeSigningChain(pki, {
        leafKey: 'ec-256',
        name: 'Plugin Expired',
        leafNotBefore: new Date(Date.now() - 10 * DAY),
        leafNotAfter: new Date(Date.now() - DAY),
      });
      const keyPath = join(configDir, 'expired.key');
      const certPath = join(configDir, 'expired.crt');
      writeFileSync(keyPath, expired.leaf.keyPem);
      writeFileSync(certPath, expired.leaf.certPem + expired.intermediate.certPem + expired.root.certPem);
      const error = await failure(() => signer({ keyPath, certPath }).sign(request(), 'jws'));
      expect(error.code).toBe('ERR_PLUGIN_FAILED');
      expect(error.message).toContain('not valid at the signing time');
    });
  });

  describe('SIGNATURE_GENERATOR.ENVELOPE', () => {
    it.each(['jws', 'cose'] as const)(
      'returns %s envelopes that verify, with the plugin annotations',
      async (format: EnvelopeFormat) => {
        for (const [name, chain] of [
          ['rsa', rsa],
          ['ec', ec],
        ] as const) {
          const result = await signer({ ...files[name], mode: 'envelope' }).sign(request(), format);
          expect(result.annotations).toEqual({ 'io.portcullis.test/plugin': 'testsigner' });
          expect(result.chain).toHaveLength(3);
          const verified = await verifyResult(result, chain.root.certDer);
          expect(verified.error).toBeNull();
          expect(verified.verified).toBe(true);
        }
      },
    );

    it('passes the expiry as expiryDurationInSeconds', async () => {
      const signingTime = new Date(Date.now() - 60_000);
      const result = await signer({ mode: 'envelope' }).sign(
        request({ signingTime, expiry: new Date(signingTime.getTime() + DAY) }),
        'jws',
      );
      const parsed = parseEnvelope(result.mediaType, result.envelope);
      const lifetime = (parsed.signed.expiry as Date).getTime() - (parsed.signed.signingTime as Date).getTime();
      expect(lifetime).toBe(DAY);
    });

    it.each([
      ['a payload for another artifact', { tamperPayload: 'true' }, 'does not describe the requested artifact'],
      ['another envelope type', { envelopeType: 'application/cose' }, 'is not the requested application/jose+json'],
      ['a signature that does not verify', { badSignature: 'true' }, 'the signature envelope does not verify'],
      ['non-string annotations', { annotations: '{"a":1}' }, 'annotations must be an object of strings'],
    ])('rejects %s', async (_what, config, message) => {
      const error = await failure(() => signer({ ...config, mode: 'envelope' }).sign(request(), 'jws'));
      expect(error.code).toBe('ERR_PLUGIN_FAILED');
      expect(error.message).toContain(message);
    });

    it('refuses timestamping, which only RAW plugins support', async () => {
      const timestampClient = new TimestampClient({
        url: 'http://127.0.0.1:9/',
        tsaRoots: [parseCertificate(ec.root.certDer)],
      });
      const error = await failure(() => signer({ mode: 'envelope' }, { timestampClient }).sign(request(), 'jws'));
      expect(error.code).toBe('ERR_INPUT_INVALID');
    });
  });

  describe('plugin failures', () => {
    it.each(['ACCESS_DENIED', 'THROTTLED', 'VALIDATION_ERROR'])('surfaces the plugin error code %s', async (code) => {
      const error = await failure(() =>
        signer({ fail: code, failCommand: 'generate-signature' }).sign(request(), 'jws'),
      );
      expect(error).toBeInstanceOf(PluginError);
      expect(error.code).toBe('ERR_PLUGIN_FAILED');
      expect((error as PluginError).pluginErrorCode).toBe(code);
      expect((error as PluginError).command).toBe('generate-signature');
      expect(error.message).toContain(`${code}: test plugin refuses generate-signature (${code})`);
    });

    it('reports a crash with its stderr, non-JSON output and a hang', async () => {
      const crash = await failure(() => signer({ crash: 'describe-key' }).sign(request(), 'jws'));
      expect(crash.message).toContain('exit status 3');
      expect(crash.message).toContain('panic: something went badly wrong');
      const garbage = await failure(() => signer({ garbage: 'get-plugin-metadata' }).sign(request(), 'jws'));
      expect(garbage.message).toContain('not JSON');
      const started = Date.now();
      const hang = await failure(() =>
        signer({ hang: 'generate-signature' }, { timeoutMs: 1500 }).sign(request(), 'jws'),
      );
      expect(hang.message).toContain('timed out after 1500 ms');
      expect(Date.now() - started).toBeLessThan(10_000);
      for (const error of [crash, garbage, hang]) expect(error.code).toBe('ERR_PLUGIN_FAILED');
    });

    it.each([
      [
        'a name that is not the installed one',
        { metadataName: 'someone-else' },
        'metadata names the plugin "someone-else"',
      ],
      ['no contract version 1.0', { contractVersions: '2.0' }, 'not 1.0'],
      ['no signing capability', { capabilities: 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY' }, 'no signing capability'],
    ])('rejects metadata with %s', async (_what, config, message) => {
      const error = await failure(() => signer(config).sign(request(), 'jws'));
      expect(error.code).toBe('ERR_PLUGIN_FAILED');
      expect(error.message).toContain(message);
    });

    it('reports a missing, symlinked, non-executable or non-file plugin as ERR_PLUGIN_NOT_FOUND', async () => {
      const missing = await failure(() => signer({}, { pluginName: 'absent' }).sign(request(), 'jws'));
      expect(missing.code).toBe('ERR_PLUGIN_NOT_FOUND');
      expect(missing.message).toContain('is not installed');

      mkdirSync(join(configDir, 'plugins', 'linked'), { recursive: true });
      symlinkSync(
        join(configDir, 'plugins', 'testsigner', 'notation-testsigner'),
        join(configDir, 'plugins', 'linked', 'notation-linked'),
      );
      const linked = await failure(() =>
        signer({ metadataName: 'linked' }, { pluginName: 'linked' }).sign(request(), 'jws'),
      );
      expect(linked.code).toBe('ERR_PLUGIN_NOT_FOUND');
      expect(linked.message).toContain('symbolic link');

      install(configDir, 'noexec', 0o644);
      const noexec = await failure(() => signer({}, { pluginName: 'noexec' }).sign(request(), 'jws'));
      expect(noexec.code).toBe('ERR_PLUGIN_NOT_FOUND');
      expect(noexec.message).toContain('not executable');

      mkdirSync(join(configDir, 'plugins', 'dir', 'notation-dir'), { recursive: true });
      const dir = await failure(() => locatePlugin(configDir, 'dir'));
      expect(dir.code).toBe('ERR_PLUGIN_NOT_FOUND');

      const bad = await failure(() => locatePlugin(configDir, '../testsigner'));
      expect(bad.code).toBe('ERR_INPUT_INVALID');
    });
  });

  it('signs for a signingkeys.json plugin entry, with the entry config', async () => {
    const entry = {
      name: 'remote',
      id: 'remote-key',
      plugin: { name: 'testsigner', config: { ...files['rsa'], mode: 'envelope' } },
    };
    const s = await signerForKey(configDir, entry);
    expect(s).toBeInstanceOf(PluginSigner);
    const result = await s.sign(request(), 'cose');
    expect((await verifyResult(result, rsa.root.certDer)).verified).toBe(true);
  });
});
