import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortcullisError } from '../../errors/index.js';
import { StaticCredentials } from './credentials.js';
import { DockerConfigCredentials, dockerConfigPath, runCredentialHelper, storeDockerLogin } from './docker-config.js';

// A fake `docker-credential-test` on PATH: answers from a JSON map keyed by server URL, logs
// every server URL it is asked about, and misbehaves on request.
let dir: string;
let env: Record<string, string | undefined>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-docker-config-'));
  const script = join(dir, 'docker-credential-test');
  writeFileSync(
    script,
    `#!/bin/sh
[ "$1" = get ] || exit 2
read -r server
echo "$server" >> "${join(dir, 'asked.log')}"
case "$server" in
  slow.example) sleep 5 ;;
  noisy.example) head -c 200000 /dev/zero | tr '\\0' 'x'; exit 0 ;;
  broken.example) echo 'not json'; exit 0 ;;
  failing.example) echo 'helper exploded' >&2; exit 3 ;;
esac
node -e '
const map = ${JSON.stringify({
      'https://index.docker.io/v1/': { Username: 'hubuser', Secret: 'hubsecret' },
      'helped.example:5000': { Username: 'helper-user', Secret: 'helper-secret' },
      'store.example': { Username: 'store-user', Secret: 'store-secret' },
      'token.example': { Username: '<token>', Secret: 'identity-token-value' },
    })};
const server = process.argv[1];
if (map[server] === undefined) { console.log("credentials not found in native keychain"); process.exit(1); }
console.log(JSON.stringify({ ServerURL: server, ...map[server] }));
' "$server"
`,
  );
  chmodSync(script, 0o755);
  env = { ...process.env, PATH: `${dir}${delimiter}${process.env.PATH ?? ''}` };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, doc: unknown): string {
  rmSync(join(dir, name), { recursive: true, force: true });
  mkdirSync(join(dir, name), { recursive: true });
  const path = join(dir, name, 'config.json');
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return path;
}

describe('dockerConfigPath', () => {
  it('uses $DOCKER_CONFIG, else ~/.docker, unless a path is given', () => {
    expect(dockerConfigPath({ env: { DOCKER_CONFIG: '/etc/docker-cfg', HOME: '/home/u' } })).toBe(
      '/etc/docker-cfg/config.json',
    );
    expect(dockerConfigPath({ env: { HOME: '/home/u' } })).toBe('/home/u/.docker/config.json');
    expect(dockerConfigPath({ path: '/x/c.json', env: { DOCKER_CONFIG: '/y' } })).toBe('/x/c.json');
  });
});

describe('DockerConfigCredentials', () => {
  it('reads auths: base64 auth, username/password, identitytoken, URL keys and Docker Hub aliases', async () => {
    const path = writeConfig('auths', {
      auths: {
        'https://index.docker.io/v1/': { auth: Buffer.from('hub:pass:with:colons').toString('base64') },
        'plain.example': { username: 'plainuser', password: 'plainpass' },
        'https://url.example/v2/': { auth: Buffer.from('urluser:urlpass').toString('base64') },
        'idtoken.example': { identitytoken: 'refresh-me' },
        'empty.example': {},
        'Mixed.Example:05000': { username: 'mixed', password: 'pw' },
      },
    });
    const creds = await DockerConfigCredentials.load({ path, env });
    expect(await creds.get('docker.io')).toEqual({ username: 'hub', password: 'pass:with:colons' });
    expect(await creds.get('plain.example')).toEqual({ username: 'plainuser', password: 'plainpass' });
    expect(await creds.get('url.example')).toEqual({ username: 'urluser', password: 'urlpass' });
    expect(await creds.get('idtoken.example')).toEqual({ identityToken: 'refresh-me' });
    expect(await creds.get('empty.example')).toBeUndefined();
    expect(await creds.get('unknown.example')).toBeUndefined();
    // Registries are named canonically (lower case, no leading zeros); the file need not be.
    expect(await creds.get('mixed.example:5000')).toEqual({ username: 'mixed', password: 'pw' });
  });

  it('asks credHelpers[host] first, then credsStore, then auths', async () => {
    const path = writeConfig('helpers', {
      credHelpers: { 'helped.example:5000': 'test', 'docker.io': 'test' },
      credsStore: 'test',
      auths: { 'fallback.example': { auth: Buffer.from('file:user').toString('base64') }, 'store.example': {} },
    });
    rmSync(join(dir, 'asked.log'), { force: true });
    const creds = await DockerConfigCredentials.load({ path, env });
    expect(await creds.get('helped.example:5000')).toEqual({ username: 'helper-user', password: 'helper-secret' });
    expect(await creds.get('docker.io')).toEqual({ username: 'hubuser', password: 'hubsecret' });
    expect(await creds.get('store.example')).toEqual({ username: 'store-user', password: 'store-secret' });
    expect(await creds.get('token.example')).toEqual({ identityToken: 'identity-token-value' });
    // The store has nothing: the file entry is used.
    expect(await creds.get('fallback.example')).toEqual({ username: 'file', password: 'user' });
    // Answers are cached: asking again does not run the helper.
    await creds.get('helped.example:5000');
    const asked = readFileSync(join(dir, 'asked.log'), 'utf8').trim().split('\n');
    expect(asked).toEqual([
      'helped.example:5000',
      'https://index.docker.io/v1/',
      'store.example',
      'token.example',
      'fallback.example',
    ]);
  });

  it('keeps a bounded number of helper answers, dropping the least recently used', async () => {
    // With a credsStore every registry a pod names is asked: the hosts come from pod specs.
    const path = writeConfig('bounded', { credsStore: 'test' });
    rmSync(join(dir, 'asked.log'), { force: true });
    const creds = await DockerConfigCredentials.load({ path, env, helperCacheMaxEntries: 3 });
    for (const host of ['a.example', 'b.example', 'c.example']) await creds.get(host);
    await creds.get('a.example'); // cached, and now the most recently used
    for (const host of ['d.example', 'e.example']) await creds.get(host);
    expect(creds.helperCacheSize).toBe(3);
    await creds.get('a.example'); // still cached
    await creds.get('b.example'); // dropped: asked again
    const asked = readFileSync(join(dir, 'asked.log'), 'utf8').trim().split('\n');
    expect(asked).toEqual(['a.example', 'b.example', 'c.example', 'd.example', 'e.example', 'b.example']);
    expect(creds.helperCacheSize).toBe(3);
  });

  it('reports a helper that fails, hangs, floods or prints junk as ERR_CREDENTIAL_HELPER', async () => {
    const codeOf = async (server: string, timeoutMs = 5000): Promise<[string, string]> => {
      try {
        await runCredentialHelper('test', server, { env, timeoutMs });
      } catch (error) {
        expect(error).toBeInstanceOf(PortcullisError);
        return [(error as PortcullisError).code, (error as Error).message];
      }
      return ['none', ''];
    };
    expect(await codeOf('failing.example')).toEqual([
      'ERR_CREDENTIAL_HELPER',
      expect.stringContaining('exited with status 3: helper exploded'),
    ]);
    expect(await codeOf('slow.example', 300)).toEqual([
      'ERR_CREDENTIAL_HELPER',
      expect.stringContaining('no answer within 300 ms'),
    ]);
    expect(await codeOf('noisy.example')).toEqual([
      'ERR_CREDENTIAL_HELPER',
      expect.stringContaining('more than 65536 bytes'),
    ]);
    expect(await codeOf('broken.example')).toEqual(['ERR_CREDENTIAL_HELPER', expect.stringContaining('not JSON')]);
    expect(await runCredentialHelper('test', 'nobody.example', { env })).toBeUndefined();
    await expect(runCredentialHelper('missing-helper', 'x', { env })).rejects.toThrow(
      /docker-credential-missing-helper is not on PATH/,
    );
    await expect(runCredentialHelper('../evil', 'x', { env })).rejects.toThrow(/not a plain program name/);
  });

  it('treats a missing file as no credentials and a malformed one as ERR_CONFIG_INVALID', async () => {
    const none = await DockerConfigCredentials.load({ path: join(dir, 'nope', 'config.json') });
    expect(await none.get('docker.io')).toBeUndefined();
    await expect(DockerConfigCredentials.load({ path: writeConfig('bad-json', '{') })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
    });
    await expect(DockerConfigCredentials.load({ path: writeConfig('bad-auths', { auths: [] }) })).rejects.toMatchObject(
      { code: 'ERR_CONFIG_INVALID' },
    );
    const badAuth = await DockerConfigCredentials.load({
      path: writeConfig('bad-auth', { auths: { 'x.example': { auth: Buffer.from('nocolon').toString('base64') } } }),
    });
    await expect(badAuth.get('x.example')).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
  });
});

describe('storeDockerLogin', () => {
  it('creates the file 0600 and keeps other settings when updating', async () => {
    const configDir = join(dir, 'login', 'nested');
    const path = await storeDockerLogin(
      'reg.example:5000',
      { username: 'alice', password: 'wonderland' },
      { env: { DOCKER_CONFIG: configDir } },
    );
    expect(path).toBe(join(configDir, 'config.json'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const first = JSON.parse(readFileSync(path, 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(first.auths['reg.example:5000']?.auth).toBe(Buffer.from('alice:wonderland').toString('base64'));

    writeFileSync(
      path,
      JSON.stringify({
        ...first,
        credHelpers: { 'gcr.io': 'gcloud' },
        auths: { ...first.auths, 'keep.example': { auth: 'a2VlcDptZQ==' } },
      }),
    );
    await storeDockerLogin('docker.io', { username: 'hub', password: 'secret' }, { path });
    const second = JSON.parse(readFileSync(path, 'utf8')) as {
      auths: Record<string, { auth: string }>;
      credHelpers: Record<string, string>;
    };
    expect(second.credHelpers).toEqual({ 'gcr.io': 'gcloud' });
    expect(Object.keys(second.auths).sort()).toEqual([
      'https://index.docker.io/v1/',
      'keep.example',
      'reg.example:5000',
    ]);
    const creds = await DockerConfigCredentials.load({ path });
    expect(await creds.get('docker.io')).toEqual({ username: 'hub', password: 'secret' });
    expect(await creds.get('reg.example:5000')).toEqual({ username: 'alice', password: 'wonderland' });
    await expect(storeDockerLogin('x', { username: 'a:b', password: 'c' }, { path })).rejects.toMatchObject({
      code: 'ERR_INPUT_INVALID',
    });
  });
});

describe('StaticCredentials', () => {
  it('resolves Docker Hub aliases', async () => {
    const creds = new StaticCredentials({
      'https://index.docker.io/v1/': { username: 'u', password: 'p' },
      'reg.io': { identityToken: 't' },
    });
    expect(await creds.get('docker.io')).toEqual({ username: 'u', password: 'p' });
    expect(await creds.get('reg.io')).toEqual({ identityToken: 't' });
    expect(await creds.get('other.io')).toBeUndefined();
  });
});
