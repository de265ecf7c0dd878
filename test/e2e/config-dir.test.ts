import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { cli } from '../helpers/cli.js';
import { ReferrersRegistry } from '../helpers/registry/referrers-registry.js';
import { pushImage } from '../helpers/registry/seed.js';

/**
 * A relative `--config-dir` (and `NOTATION_CONFIG`) is relative to the working directory in
 * every command: `cert generate-test NAME --config-dir ncfg` once wrote `ncfg/localkeys/NAME.key`
 * into signingkeys.json, which `sign` then read relative to the configuration directory
 * (`ncfg/ncfg/localkeys/NAME.key`). The commands run in-process, where the working directory is
 * the test's; the directory is named relative to it.
 */
describe('a relative --config-dir', () => {
  let registry: ReferrersRegistry;
  let image: string;
  const tmp = mkdtempSync(join(tmpdir(), 'portcullis-cwd-'));
  const ncfg = relative(process.cwd(), join(tmp, 'ncfg'));

  beforeAll(async () => {
    registry = await ReferrersRegistry.start();
    const client = new RegistryClient();
    await pushImage(client, { registry: registry.host, repository: 'app' }, 'v1');
    await client.close();
    image = `${registry.host}/app:v1`;
  });
  afterAll(async () => {
    await registry?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('generates a key, signs with it, adds and lists certificates, shows the policy and verifies', async () => {
    expect(isAbsolute(ncfg)).toBe(false);
    const generated = await cli(['cert', 'generate-test', '--config-dir', ncfg, '--key-type', 'ec', 'signer']);
    expect(generated.stderr).toBe('');
    expect(generated.status).toBe(0);
    const keys = JSON.parse(readFileSync(join(tmp, 'ncfg', 'signingkeys.json'), 'utf8')) as {
      keys: { keyPath: string; certPath: string }[];
    };
    // notation writes absolute paths: the file means the same whatever directory reads it.
    expect(keys.keys.every((k) => isAbsolute(k.keyPath) && isAbsolute(k.certPath))).toBe(true);

    const signed = await cli(['sign', '--config-dir', ncfg, image]);
    expect(signed.stderr).not.toContain('cannot read');
    expect(signed.status).toBe(0);

    expect(
      (
        await cli([
          'cert',
          'add',
          '--config-dir',
          ncfg,
          '--type',
          'ca',
          '--store',
          'again',
          join(ncfg, 'localkeys', 'signer.crt'),
        ])
      ).status,
    ).toBe(0);
    const listed = await cli(['cert', 'list', '--config-dir', ncfg]);
    expect(listed.stdout).toContain('signer');
    expect(listed.stdout).toContain('again');

    writeFileSync(
      join(tmp, 'ncfg', 'trustpolicy.oci.json'),
      JSON.stringify({
        version: '1.0',
        trustPolicies: [
          {
            name: 'app',
            registryScopes: [`${registry.host}/app`],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:signer'],
            trustedIdentities: ['*'],
          },
        ],
      }),
    );
    expect((await cli(['policy', 'show', '--config-dir', ncfg])).status).toBe(0);
    const verified = await cli(['verify', '--config-dir', ncfg, image, '--output', 'json']);
    expect(verified.status).toBe(0);
    expect(verified.json()).toMatchObject({ verified: true });
    // The same directory named through the environment.
    expect((await cli(['verify', image], { env: { NOTATION_CONFIG: ncfg } })).status).toBe(0);
  });
});
