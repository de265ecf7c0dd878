import { describe, expect, it } from 'vitest';
import { b64, dockerSecret } from '../../../test/helpers/secrets.js';
import { chooseCredential } from './choose.js';
import { StaticCredentials } from './credentials.js';
import { ResourcePullSecretResolver, credentialsFromSecret, type RequestCredentials } from './pull-secrets.js';

describe('choosing credentials', () => {
  const podA: RequestCredentials = { identity: 'secret:a/reg@1', auths: { 'reg.example': { auth: b64('alice:pw') } } };
  const podB: RequestCredentials = {
    identity: 'secret:a/other@1',
    auths: { 'https://other.example/v1/': { username: 'bob', password: 'x' } },
  };

  it('takes the pod secrets first, in order, then the default, else anonymous', async () => {
    const defaults = new StaticCredentials({
      'reg.example': { username: 'ops', password: 'y' },
      'default.example': { username: 'ops', password: 'y' },
    });
    const a = await chooseCredential('reg.example', [podA, podB], defaults);
    expect(a.identity).toBe('pod:secret:a/reg@1');
    expect(await a.provider?.get('reg.example')).toEqual({ username: 'alice', password: 'pw' });
    const b = await chooseCredential('other.example', [podA, podB], defaults);
    expect(b.identity).toBe('pod:secret:a/other@1');
    const d = await chooseCredential('default.example', [podA], defaults);
    expect(d.identity).toMatch(/^default:user ops#[0-9a-f]{16}$/);
    expect(await chooseCredential('nobody.example', [podA], defaults)).toEqual({
      identity: 'anonymous',
      provider: undefined,
    });
  });

  it('matches a secret that spells the registry otherwise than its canonical name', async () => {
    const upper: RequestCredentials = {
      identity: 'secret:a/upper@1',
      auths: { 'HTTPS://LOCALHOST:05000/v2/': { auth: b64('u:p') } },
    };
    expect((await chooseCredential('localhost:5000', [upper], undefined)).identity).toBe('pod:secret:a/upper@1');
    expect((await chooseCredential('localhost:5001', [upper], undefined)).identity).toBe('anonymous');
  });

  it('matches Docker Hub under its aliases', async () => {
    const hub: RequestCredentials = {
      identity: 'secret:a/hub@1',
      auths: { 'https://index.docker.io/v1/': { auth: b64('u:p') } },
    };
    expect((await chooseCredential('docker.io', [hub], undefined)).identity).toBe('pod:secret:a/hub@1');
  });
});

describe('pull secrets from Secret objects', () => {
  it('reads dockerconfigjson Secrets; identity follows resourceVersion or content', async () => {
    const found = credentialsFromSecret(
      dockerSecret('team', 'reg', { 'r.example': { username: 'u', password: 'p' } }, '42'),
    );
    expect(found).toEqual({
      namespace: 'team',
      name: 'reg',
      credentials: { identity: 'secret:team/reg@42', auths: { 'r.example': { username: 'u', password: 'p' } } },
    });
    const hashed = credentialsFromSecret(dockerSecret('team', 'reg', { 'r.example': { auth: b64('u:p') } }));
    expect(hashed?.credentials.identity).toMatch(/^secret:team\/reg@sha256-[0-9a-f]{16}$/);
    expect(
      credentialsFromSecret({ kind: 'Secret', type: 'Opaque', metadata: { name: 'x' }, data: {} }),
    ).toBeUndefined();
    expect(
      credentialsFromSecret({
        kind: 'Secret',
        type: 'kubernetes.io/dockerconfigjson',
        metadata: { name: 'x' },
        data: { '.dockerconfigjson': b64('{not json') },
      }),
    ).toBeUndefined();
  });

  it('resolves names in the namespace only, skipping missing ones', async () => {
    const r = new ResourcePullSecretResolver([
      dockerSecret('team', 'reg', { 'r.example': { auth: b64('u:p') } }),
      dockerSecret('other', 'reg', { 'r.example': { auth: b64('v:q') } }),
    ]);
    const got = await r.resolve('team', ['missing', 'reg']);
    expect(got.map((c) => c.identity)).toEqual([expect.stringMatching(/^secret:team\/reg@/)]);
    r.update([]);
    expect(await r.resolve('team', ['reg'])).toEqual([]);
  });
});
