import { describe, expect, it } from 'vitest';
import { credentialsFromDockerSecret } from '../registry/index.js';
import { KubernetesPullSecretResolver, parseSecretRef, type PullSecretApi } from './pull-secrets.js';

// The resolver's caching and ordering with a fake API (test/kube/pull-secrets.test.ts reads real
// Secrets and ServiceAccounts from a real API server).

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function dockerSecret(name: string, rv: string, host: string, user: string): Record<string, unknown> {
  return {
    metadata: { name, namespace: 'ns', resourceVersion: rv },
    type: 'kubernetes.io/dockerconfigjson',
    data: {
      '.dockerconfigjson': b64(JSON.stringify({ auths: { [host]: { username: user, password: 'pw', extra: 1 } } })),
    },
  };
}

class FakeApi implements PullSecretApi {
  secrets = new Map<string, unknown>();
  accounts = new Map<string, unknown>();
  reads: string[] = [];
  failing = false;
  delayMs = 0;
  async readSecret(namespace: string, name: string): Promise<unknown> {
    this.reads.push(`secret ${namespace}/${name}`);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failing) throw Object.assign(new Error('down'), { code: 503 });
    return this.secrets.get(`${namespace}/${name}`);
  }
  async readServiceAccount(namespace: string, name: string): Promise<unknown> {
    this.reads.push(`sa ${namespace}/${name}`);
    if (this.failing) throw Object.assign(new Error('down'), { code: 503 });
    return this.accounts.get(`${namespace}/${name}`);
  }
}

describe('credentialsFromDockerSecret', () => {
  it('reads dockerconfigjson and dockercfg; identity is secret:<ns>/<name>@<resourceVersion>', () => {
    expect(credentialsFromDockerSecret(dockerSecret('r', '42', 'reg.io', 'u'), 'ns', 'r')).toEqual({
      identity: 'secret:ns/r@42',
      auths: { 'reg.io': { username: 'u', password: 'pw' } },
    });
    const legacy = {
      type: 'kubernetes.io/dockercfg',
      metadata: { resourceVersion: '7' },
      data: { '.dockercfg': b64(JSON.stringify({ 'old.io': { auth: b64('a:b') } })) },
    };
    expect(credentialsFromDockerSecret(legacy, 'ns', 'l')).toEqual({
      identity: 'secret:ns/l@7',
      auths: { 'old.io': { auth: b64('a:b') } },
    });
  });

  it('skips other types and malformed content; without a resourceVersion the identity is a digest, never the content', () => {
    expect(credentialsFromDockerSecret({ type: 'Opaque', data: {} }, 'ns', 'x')).toBeUndefined();
    expect(
      credentialsFromDockerSecret(
        { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{nope') } },
        'ns',
        'x',
      ),
    ).toBeUndefined();
    expect(
      credentialsFromDockerSecret({ type: 'kubernetes.io/dockerconfigjson', data: {} }, 'ns', 'x'),
    ).toBeUndefined();
    const c = credentialsFromDockerSecret(
      {
        type: 'kubernetes.io/dockerconfigjson',
        stringData: { '.dockerconfigjson': '{"auths":{"h":{"password":"topsecret"}}}' },
      },
      'ns',
      'x',
    );
    expect(c?.identity).toMatch(/^secret:ns\/x@sha256-[0-9a-f]{16}$/);
    expect(c?.identity).not.toContain('topsecret');
  });

  it('parses namespace/name', () => {
    expect(parseSecretRef('kube-system/regcred')).toEqual({ namespace: 'kube-system', name: 'regcred' });
    expect(() => parseSecretRef('regcred')).toThrow(/namespace\/name/);
  });
});

describe('KubernetesPullSecretResolver', () => {
  it("orders the pod's secrets, falls back to the service account's, appends the default once", async () => {
    const api = new FakeApi();
    api.secrets.set('ns/a', dockerSecret('a', '1', 'a.io', 'ua'));
    api.secrets.set('ns/b', dockerSecret('b', '2', 'b.io', 'ub'));
    api.secrets.set('sys/default', dockerSecret('default', '3', 'mirror.io', 'node'));
    api.accounts.set('ns/builder', { imagePullSecrets: [{ name: 'b' }, { name: 'gone' }] });
    const resolver = new KubernetesPullSecretResolver({ api, defaultSecret: 'sys/default' });
    expect((await resolver.resolve('ns', ['b', 'a', 'b', 'gone'])).map((c) => c.identity)).toEqual([
      'secret:ns/b@2',
      'secret:ns/a@1',
      'secret:sys/default@3',
    ]);
    expect((await resolver.resolve('ns', [], { serviceAccountName: 'builder' })).map((c) => c.identity)).toEqual([
      'secret:ns/b@2',
      'secret:sys/default@3',
    ]);
    expect((await resolver.resolve('ns', [])).map((c) => c.identity)).toEqual(['secret:sys/default@3']);
    expect(api.reads).toContain('sa ns/default');
    expect((await resolver.resolve('sys', ['default'])).map((c) => c.identity)).toEqual(['secret:sys/default@3']);
  });

  it('caches for the TTL (not-found for the shorter TTL), shares concurrent reads, and bounds the cache', async () => {
    let now = 0;
    const api = new FakeApi();
    api.secrets.set('ns/a', dockerSecret('a', '1', 'a.io', 'ua'));
    const resolver = new KubernetesPullSecretResolver({
      api,
      ttlMs: 1000,
      negativeTtlMs: 100,
      maxEntries: 2,
      now: () => now,
    });
    api.delayMs = 10;
    await Promise.all([resolver.resolve('ns', ['a']), resolver.resolve('ns', ['a']), resolver.resolve('ns', ['a'])]);
    expect(api.reads.filter((r) => r === 'secret ns/a')).toHaveLength(1);
    api.delayMs = 0;

    api.secrets.set('ns/a', dockerSecret('a', '2', 'a.io', 'ua'));
    now = 999;
    expect((await resolver.resolve('ns', ['a']))[0]?.identity).toBe('secret:ns/a@1');
    now = 1001;
    expect((await resolver.resolve('ns', ['a']))[0]?.identity).toBe('secret:ns/a@2');

    await resolver.resolve('ns', ['missing']);
    now += 50;
    await resolver.resolve('ns', ['missing']);
    expect(api.reads.filter((r) => r === 'secret ns/missing')).toHaveLength(1);
    now += 100;
    await resolver.resolve('ns', ['missing']);
    expect(api.reads.filter((r) => r === 'secret ns/missing')).toHaveLength(2);

    // maxEntries 2: reading b and c evicts a (least recently used).
    api.reads = [];
    await resolver.resolve('ns', ['b']);
    await resolver.resolve('ns', ['c']);
    await resolver.resolve('ns', ['a']);
    expect(api.reads).toEqual(['secret ns/b', 'secret ns/c', 'secret ns/a']);
  });

  it('uses the last value read when the API fails, else throws', async () => {
    let now = 0;
    const api = new FakeApi();
    api.secrets.set('ns/a', dockerSecret('a', '1', 'a.io', 'ua'));
    const resolver = new KubernetesPullSecretResolver({ api, ttlMs: 10, now: () => now });
    await resolver.resolve('ns', ['a']);
    api.failing = true;
    now = 1000;
    expect((await resolver.resolve('ns', ['a']))[0]?.identity).toBe('secret:ns/a@1');
    await expect(resolver.resolve('ns', ['b'])).rejects.toThrow(/cannot read ns\/b from the Kubernetes API: HTTP 503/);
  });

  it('reads at most maxNames secrets for one request', async () => {
    const api = new FakeApi();
    const resolver = new KubernetesPullSecretResolver({ api, maxNames: 3 });
    await resolver.resolve('ns', ['a', 'b', 'c', 'd', 'e']);
    expect(api.reads).toEqual(['secret ns/a', 'secret ns/b', 'secret ns/c']);
  });
});
