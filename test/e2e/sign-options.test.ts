import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import { Pki, codeSigningChain } from '../helpers/pki.js';
import { ReferrersRegistry } from '../helpers/registry/referrers-registry.js';
import { pushImage } from '../helpers/registry/seed.js';
import { TsaServer } from '../helpers/tsa-server.js';
import { TestTsa } from '../helpers/tsa.js';
import { TEST_SIGNER, installPlugin } from '../helpers/plugins.js';

/** `portcullis sign` with a notation signing plugin, with a real RFC 3161 TSA, with COSE and expiry. */
describe('portcullis sign options', () => {
  const pki = new Pki();
  const signer = new ConfigDir();
  const verifier = new ConfigDir();
  let registry: ReferrersRegistry;
  let tsa: TestTsa;
  let tsaServer: TsaServer;
  let n = 0;

  const newImage = async (): Promise<string> => {
    const client = new RegistryClient();
    await pushImage(client, { registry: registry.host, repository: 'app' }, `t${++n}`, `seed-${n}`);
    await client.close();
    return `${registry.host}/app:t${n}`;
  };
  const verify = async (image: string) =>
    (await cli(['verify', '--config-dir', verifier.path, image, '--output', 'json'])).json<Record<string, unknown>>();

  beforeAll(async () => {
    registry = await ReferrersRegistry.start();
    tsa = new TestTsa({ pki, name: 'Sign TSA' });
    tsaServer = await TsaServer.start(tsa);
    const chain = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Plugin Signer' });
    // The plugin, installed as notation installs plugins, with its key where pluginConfig says.
    installPlugin(TEST_SIGNER, join(signer.path, 'plugins/testsigner/notation-testsigner'));
    writeFileSync(join(signer.path, 'plugin.key'), chain.leaf.keyPem);
    writeFileSync(
      join(signer.path, 'plugin.crt'),
      chain.leaf.certPem + chain.intermediate.certPem + chain.root.certPem,
    );
    writeFileSync(join(signer.path, 'tsa-root.crt'), tsa.root.certPem);
    expect((await cli(['cert', 'generate-test', '--config-dir', signer.path, '--default', 'local'])).status).toBe(0);
    verifier
      .policy({
        version: '1.0',
        trustPolicies: [
          {
            name: 'p',
            registryScopes: ['*'],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:signers', 'tsa:tsa'],
            trustedIdentities: ['*'],
          },
        ],
      })
      .storeBytes('ca', 'signers', 'plugin-root.crt', chain.root.certPem)
      .store('ca', 'signers', [join(signer.path, 'localkeys/local.crt')])
      .storeBytes('tsa', 'tsa', 'root.crt', tsa.root.certPem);
  });

  afterAll(async () => {
    await registry?.stop();
    await tsaServer?.close();
    pki.cleanup();
    signer.cleanup();
    verifier.cleanup();
  });

  const timestampArgs = () => [
    '--timestamp-url',
    tsaServer.url,
    '--timestamp-root-cert',
    join(signer.path, 'tsa-root.crt'),
  ];
  const pluginArgs = (mode: string) => [
    '--plugin',
    'testsigner',
    '--id',
    'key-1',
    '--plugin-config',
    `keyPath=${join(signer.path, 'plugin.key')}`,
    '--plugin-config',
    `certPath=${join(signer.path, 'plugin.crt')}`,
    '--plugin-config',
    `mode=${mode}`,
  ];

  it.each(['raw', 'envelope'])(
    'signs through a notation plugin (%s capability) and the result verifies as the policy says',
    async (mode) => {
      const image = await newImage();
      // The policy lists a tsa store, so a timestamp is mandatory: envelope plugins cannot be timestamped here.
      const args = mode === 'raw' ? timestampArgs() : [];
      const r = await cli(['sign', '--config-dir', signer.path, ...pluginArgs(mode), ...args, image]);
      expect(r.status, r.stderr).toBe(0);
      const result = await verify(image);
      if (mode === 'raw') expect(result).toMatchObject({ verified: true });
      else
        expect(result).toMatchObject({
          verified: false,
          failedCheck: 'authenticTimestamp',
          code: 'ERR_TIMESTAMP_MISSING',
        });
    },
  );

  it('signs a COSE envelope with a local key, an expiry and an RFC 3161 timestamp', async () => {
    const image = await newImage();
    const r = await cli([
      'sign',
      '--config-dir',
      signer.path,
      '--signature-format',
      'cose',
      '--expiry',
      '24h',
      ...timestampArgs(),
      image,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(tsaServer.requests.length).toBeGreaterThan(0);
    expect(await verify(image)).toMatchObject({ verified: true });
    const inspect = await cli(['inspect', image, '--output', 'json']);
    const sig = inspect.json<{
      signatures: {
        mediaType: string;
        signedAttributes: Record<string, string>;
        unsignedAttributes: { timestampSignature?: { genTime: string } };
      }[];
    }>().signatures[0];
    expect(sig?.mediaType).toBe('application/cose');
    expect(sig?.signedAttributes.expiry).toBeDefined();
    expect(sig?.unsignedAttributes.timestampSignature?.genTime).toBeDefined();
  });

  it('refuses a timestamp from a TSA that is not the named root, and pushes nothing', async () => {
    const image = await newImage();
    const r = await cli([
      'sign',
      '--config-dir',
      signer.path,
      '--timestamp-url',
      tsaServer.url,
      '--timestamp-root-cert',
      join(signer.path, 'plugin.crt'),
      image,
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[ERR_TIMESTAMP_FAILED]');
    const discover = await cli(['discover', image, '--output', 'json']);
    expect(discover.json<{ referrers: unknown[] }>().referrers).toEqual([]);
  });

  it("reports a plugin error with the plugin's code", async () => {
    const image = await newImage();
    const r = await cli([
      'sign',
      '--config-dir',
      signer.path,
      ...pluginArgs('raw'),
      '--plugin-config',
      'fail=ACCESS_DENIED',
      image,
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('ACCESS_DENIED');
    expect(r.stderr).toContain('[ERR_PLUGIN_FAILED]');
  });

  it.each([
    [['--signature-format', 'pgp'], 'ERR_INPUT_INVALID'],
    [['--expiry', '-1h'], 'ERR_INPUT_INVALID'],
    [['--timestamp-url', 'http://127.0.0.1:1/'], 'ERR_INPUT_INVALID'],
    [['--key', 'absent'], 'ERR_KEY_NOT_FOUND'],
    [['--plugin', 'testsigner'], 'ERR_INPUT_INVALID'],
  ])('rejects bad sign options %j', async (args, code) => {
    const r = await cli(['sign', '--config-dir', signer.path, ...args, `${registry.host}/app:t1`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`[${code}]`);
  });
});
