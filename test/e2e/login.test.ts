import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, StaticCredentials } from '../../src/registry/index.js';
import { cli } from '../helpers/cli.js';
import { DistributionRegistry } from '../helpers/registry/distribution.js';
import { freePort } from '../helpers/registry/free-port.js';
import { pushImage } from '../helpers/registry/seed.js';

/**
 * `login` checks credentials against real registries (Basic and token auth) before storing them,
 * stores them as docker does (credential helper, else config.json), and `logout` removes them.
 */
describe('portcullis login and logout', () => {
  let basic: DistributionRegistry;
  let token: DistributionRegistry;
  let dir: string;
  let helperLog: string;
  let helperStore: string;
  let env: NodeJS.ProcessEnv;

  const config = (): string => join(dir, 'docker', 'config.json');
  const writeConfig = (doc: object): void => writeFileSync(config(), JSON.stringify(doc));
  const readConfig = (): { auths?: Record<string, { auth?: string }>; credsStore?: string } =>
    JSON.parse(readFileSync(config(), 'utf8')) as never;

  beforeAll(async () => {
    basic = await DistributionRegistry.start({ auth: 'basic' });
    token = await DistributionRegistry.start({ auth: 'token' });
    for (const r of [basic, token]) {
      const client = new RegistryClient({
        credentials: new StaticCredentials({ [r.host]: { username: 'alice', password: 'wonderland' } }),
      });
      await pushImage(client, { registry: r.host, repository: 'app' }, 'v1');
      await client.close();
    }
    dir = mkdtempSync(join(tmpdir(), 'portcullis-login-'));
    helperLog = join(dir, 'helper.log');
    helperStore = join(dir, 'helper-store.json');
    // A docker-credential-* helper that keeps secrets in a JSON file and logs each action.
    const helper = join(dir, 'docker-credential-fake');
    writeFileSync(
      helper,
      `#!${process.execPath}
const fs = require('fs');
const [action] = process.argv.slice(2);
const input = fs.readFileSync(0, 'utf8');
const file = ${JSON.stringify(helperStore)};
const store = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
fs.appendFileSync(${JSON.stringify(helperLog)}, action + ' ' + (action === 'store' ? JSON.parse(input).ServerURL : input) + '\\n');
if (action === 'store') { const c = JSON.parse(input); store[c.ServerURL] = c; fs.writeFileSync(file, JSON.stringify(store)); }
else if (action === 'get') { const c = store[input]; if (!c) { process.stdout.write('credentials not found in native keychain'); process.exit(1); } process.stdout.write(JSON.stringify(c)); }
else if (action === 'erase') { if (!store[input]) { process.stdout.write('credentials not found in native keychain'); process.exit(1); } delete store[input]; fs.writeFileSync(file, JSON.stringify(store)); }
`,
    );
    chmodSync(helper, 0o755);
    env = { DOCKER_CONFIG: join(dir, 'docker'), PATH: `${dir}${delimiter}${process.env.PATH ?? ''}` };
  });
  afterAll(async () => {
    await basic?.stop();
    await token?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['Basic auth (htpasswd)', () => basic],
    ['token auth (a token server)', () => token],
  ])(
    'stores nothing when the registry rejects the credentials, then stores good ones in config.json (%s)',
    async (_name, registry) => {
      rmSync(join(dir, 'docker'), { recursive: true, force: true });
      const host = registry().host;
      const bad = await cli(['login', host, '-u', 'alice', '--password-stdin'], { env, stdin: 'wrong\n' });
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('[ERR_REGISTRY_UNAUTHORIZED]');
      expect(existsSync(config())).toBe(false);
      // Without a login the registry refuses a listing; after it, the stored credentials are used.
      const anonymous = await cli(['list', `${host}/app:v1`], { env });
      expect(anonymous.stderr).toContain('[ERR_REGISTRY_UNAUTHORIZED]');
      expect(anonymous.stderr).toContain(`hint: log in first: portcullis login ${host} -u NAME --password-stdin`);
      const good = await cli(['login', host, '-u', 'alice', '--password-stdin'], { env, stdin: 'wonderland\n' });
      expect(good.status, good.stderr).toBe(0);
      expect(good.stdout).toContain(`Login Succeeded: credentials for ${host} stored in ${config()}`);
      expect(good.stderr).toContain('stored unencrypted');
      expect(readConfig().auths?.[host]?.auth).toBe(Buffer.from('alice:wonderland').toString('base64'));
      expect((await cli(['list', `${host}/app:v1`], { env })).status).toBe(0);
      const out = await cli(['logout', host], { env });
      expect(out.stdout).toContain(`Removed the login credentials for ${host}`);
      expect(readConfig().auths?.[host]).toBeUndefined();
      expect((await cli(['logout', host], { env })).stdout).toBe(`Not logged in to ${host}: no stored credentials\n`);
    },
  );

  it('never stores credentials for a registry it cannot reach', async () => {
    rmSync(join(dir, 'docker'), { recursive: true, force: true });
    const r = await cli(
      ['login', `127.0.0.1:${await freePort()}`, '-u', 'alice', '-p', 'wonderland', '--timeout', '5'],
      { env },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[ERR_REGISTRY_UNREACHABLE]');
    expect(existsSync(config())).toBe(false);
  });

  it('stores through credsStore (docker-credential-* store), keeps no secret in the file, and erases on logout', async () => {
    rmSync(join(dir, 'docker'), { recursive: true, force: true });
    rmSync(helperStore, { force: true });
    rmSync(helperLog, { force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'docker'));
    writeConfig({ credsStore: 'fake', experimental: 'keep-me' });
    const r = await cli(['login', token.host, '-u', 'alice', '--password-stdin'], { env, stdin: 'wonderland' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('stored by docker-credential-fake');
    expect(JSON.parse(readFileSync(helperStore, 'utf8'))).toEqual({
      [token.host]: { ServerURL: token.host, Username: 'alice', Secret: 'wonderland' },
    });
    const file = readConfig() as Record<string, unknown>;
    expect(file).toMatchObject({ credsStore: 'fake', experimental: 'keep-me', auths: { [token.host]: {} } });
    expect(readFileSync(config(), 'utf8')).not.toContain('wonderland');
    expect((await cli(['list', `${token.host}/app:v1`], { env })).status).toBe(0);
    expect((await cli(['logout', token.host], { env })).status).toBe(0);
    expect(JSON.parse(readFileSync(helperStore, 'utf8'))).toEqual({});
    expect(readFileSync(helperLog, 'utf8').trim().split('\n')).toEqual([
      `store ${token.host}`,
      `get ${token.host}`,
      `erase ${token.host}`,
    ]);
  });

  it('uses the credHelpers entry of the registry only for that registry', async () => {
    rmSync(helperStore, { force: true });
    writeConfig({ credHelpers: { [basic.host]: 'fake' } });
    expect((await cli(['login', basic.host, '-u', 'alice', '-p', 'wonderland'], { env })).stdout).toContain(
      'stored by docker-credential-fake',
    );
    expect((await cli(['login', token.host, '-u', 'alice', '-p', 'wonderland'], { env })).stdout).toContain(
      `stored in ${config()}`,
    );
    expect(Object.keys(JSON.parse(readFileSync(helperStore, 'utf8')) as object)).toEqual([basic.host]);
    expect(readConfig().auths?.[token.host]?.auth).toBeDefined();
    expect(readConfig().auths?.[basic.host]).toEqual({});
  });

  it('rejects a malformed registry name and a missing password source', async () => {
    expect((await cli(['login', 'http://x', '-u', 'a', '-p', 'b'], { env })).stderr).toContain(
      'is not a registry host',
    );
    expect((await cli(['login', basic.host, '-u', 'a'], { env })).stderr).toContain(
      'give exactly one of --password and --password-stdin',
    );
  });
});
