import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { vector } from '../../test/helpers/vectors.js';
import type { PortcullisError } from '../errors/index.js';
import { formatResourceId, type PolicySnapshot } from '../policyset/types.js';
import { DirectoryPolicySource, type DirectoryPolicySourceOptions } from './directory.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples/policies');
const E2E_PEM = readFileSync(vector('notation/e2e/localkeys/e2e.crt'), 'utf8');
const indent = (text: string, n: number): string =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

const STORE = `apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustStore
metadata:
  name: e2e
spec:
  type: ca
  certificates: |
${indent(E2E_PEM, 4)}
`;

const policy = (namespace: string, name: string, action = 'deny'): string => `apiVersion: portcullis.dev/v1alpha1
kind: TrustPolicy
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  enforcementAction: ${action}
  version: "1.0"
  trustPolicies:
    - name: all
      registryScopes: ["*"]
      signatureVerification: { level: strict }
      trustStores: ["ca:e2e"]
      trustedIdentities: ["*"]
`;

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: team-a }
spec: { replicas: 1 }
`;

/** Collects snapshots; next() waits for the following one (bounded, no fixed sleeps). */
class Snapshots {
  readonly all: PolicySnapshot[] = [];
  readonly errors: PortcullisError[] = [];
  #waiters: ((s: PolicySnapshot) => void)[] = [];
  readonly push = (snapshot: PolicySnapshot): void => {
    this.all.push(snapshot);
    for (const waiter of this.#waiters.splice(0)) waiter(snapshot);
  };
  next(timeoutMs = 10_000): Promise<PolicySnapshot> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`no new snapshot within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push((s) => {
        clearTimeout(timer);
        resolvePromise(s);
      });
    });
  }
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-policies-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function started(
  options: DirectoryPolicySourceOptions,
): Promise<{ source: DirectoryPolicySource; snapshots: Snapshots }> {
  const snapshots = new Snapshots();
  const source = new DirectoryPolicySource({
    debounceMs: 30,
    rescanIntervalMs: 0,
    onError: (e) => snapshots.errors.push(e),
    ...options,
  });
  cleanup.push(() => source.stop());
  await source.start(snapshots.push);
  return { source, snapshots };
}

const ids = (snapshot: PolicySnapshot | undefined): string[] =>
  (snapshot?.documents ?? []).map((d) => formatResourceId(d.id));
const invalidIds = (snapshot: PolicySnapshot | undefined): string[] =>
  (snapshot?.invalid ?? []).map((e) => formatResourceId(e.id));

describe('DirectoryPolicySource', () => {
  it('the examples in examples/policies load with no invalid entries', async () => {
    const { source, snapshots } = await started({ directory: EXAMPLES });
    const snapshot = source.current();
    expect(snapshots.all).toHaveLength(1);
    expect(snapshot?.invalid).toEqual([]);
    expect(ids(snapshot)).toEqual(['ClusterTrustPolicy baseline', 'TrustPolicy secured/strict']);
    expect(snapshot?.documentsFor('secured').map((d) => d.id.name)).toEqual(['baseline', 'strict']);
    expect(snapshot?.documentsFor('not-secured')).toEqual([]);
    expect(snapshot?.invalidFor('not-secured')).toEqual([]);
    expect(snapshot?.documents[0]?.trustStores.get('ca', 'e2e')?.[0]?.subject).toBe(
      'CN=e2e,O=Notary,L=Seattle,ST=WA,C=US',
    );
  });

  it('reads multi-document YAML, JSON and List files in nested directories, ignoring other kinds', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'teams/a'), { recursive: true });
    mkdirSync(join(dir, 'teams/b/deeper'), { recursive: true });
    writeFileSync(join(dir, 'store.yaml'), STORE);
    writeFileSync(
      join(dir, 'teams/a/policies.yml'),
      `${DEPLOYMENT}---\n${policy('team-a', 'one')}---\n${policy('team-a', 'two', 'warn')}`,
    );
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b', labels: { tier: 'gold' } } }],
    };
    writeFileSync(join(dir, 'teams/b/deeper/ns.json'), JSON.stringify(list));
    writeFileSync(join(dir, 'teams/b/deeper/policy.yaml'), policy('team-b', 'three'));
    writeFileSync(join(dir, 'README.md'), 'not a manifest: ignored');
    mkdirSync(join(dir, '.hidden'));
    writeFileSync(join(dir, '.hidden/policy.yaml'), policy('hidden', 'p'));

    const { source } = await started({ directory: dir });
    const snapshot = source.current();
    expect(snapshot?.invalid).toEqual([]);
    expect(ids(snapshot)).toEqual(['TrustPolicy team-a/one', 'TrustPolicy team-a/two', 'TrustPolicy team-b/three']);
    expect(snapshot?.namespaceLabels.get('team-b')).toMatchObject({ tier: 'gold' });
  });

  it("takes the namespaces given (the cluster's) where the directory defines none of that name", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'store.yaml'), STORE);
    writeFileSync(
      join(dir, 'ns.yaml'),
      'apiVersion: v1\nkind: Namespace\nmetadata: { name: staging, labels: { env: local } }\n',
    );
    const cluster = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod', labels: { 'portcullis.dev/enforce': 'true' } } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'staging', labels: { env: 'cluster' } } },
    ];
    const { source } = await started({ directory: dir, namespaces: cluster });
    const snapshot = source.current();
    expect(snapshot?.invalid).toEqual([]);
    expect(snapshot?.namespaceLabels.get('prod')).toMatchObject({ 'portcullis.dev/enforce': 'true' });
    expect(snapshot?.namespaceLabels.get('staging')).toMatchObject({ env: 'local' });
  });

  it('follows symlinked files and skips dot entries, as in a mounted ConfigMap', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, '..2024_01_01'));
    writeFileSync(join(dir, '..2024_01_01/store.yaml'), STORE);
    writeFileSync(join(dir, '..2024_01_01/policy.yaml'), policy('team-a', 'p'));
    symlinkSync('..2024_01_01', join(dir, '..data'));
    symlinkSync('..data/store.yaml', join(dir, 'store.yaml'));
    symlinkSync('..data/policy.yaml', join(dir, 'policy.yaml'));
    const { source } = await started({ directory: dir });
    expect(source.current()?.invalid).toEqual([]);
    expect(ids(source.current())).toEqual(['TrustPolicy team-a/p']);
  });

  it('reloads on change and emits a new snapshot with a higher revision', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'store.yaml'), STORE);
    const { snapshots } = await started({ directory: dir });
    expect(snapshots.all[0]?.revision).toBe(1);
    expect(ids(snapshots.all[0])).toEqual([]);

    let next = snapshots.next();
    writeFileSync(join(dir, 'policy.yaml'), policy('team-a', 'p'));
    let snapshot = await next;
    // An editor may write in several steps; wait until the change is complete.
    while (ids(snapshot).length === 0) snapshot = await snapshots.next();
    expect(snapshot.revision).toBeGreaterThan(1);
    expect(ids(snapshot)).toEqual(['TrustPolicy team-a/p']);

    // A subdirectory created after start is read, and then watched itself.
    next = snapshots.next();
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub/more.yaml'), policy('team-b', 'q'));
    snapshot = await next;
    while (ids(snapshot).length < 2) snapshot = await snapshots.next();
    expect(ids(snapshot)).toEqual(['TrustPolicy team-a/p', 'TrustPolicy team-b/q']);

    next = snapshots.next();
    writeFileSync(join(dir, 'sub/more.yaml'), policy('team-b', 'q', 'warn'));
    snapshot = await next;
    while (snapshot.documentsFor('team-b')[0]?.enforcementAction !== 'warn') snapshot = await snapshots.next();
    expect(snapshot.documentsFor('team-b').map((d) => d.enforcementAction)).toEqual(['warn']);
  });

  it('emits nothing when the content did not change', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'store.yaml'), STORE);
    const { source, snapshots } = await started({ directory: dir });
    await source.reload();
    writeFileSync(join(dir, 'store.yaml'), STORE); // same bytes
    await source.reload();
    expect(snapshots.all).toHaveLength(1);
    expect(source.current()?.revision).toBe(1);
  });

  it('an unparsable file is an invalid entry that blocks every namespace; the other files still load', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'store.yaml'), STORE);
    writeFileSync(join(dir, 'good.yaml'), policy('team-a', 'p'));
    writeFileSync(
      join(dir, 'broken.yaml'),
      'apiVersion: portcullis.dev/v1alpha1\nkind: TrustPolicy\nmetadata: [unclosed\n',
    );
    const { source } = await started({ directory: dir });
    const snapshot = source.current();
    expect(ids(snapshot)).toEqual(['TrustPolicy team-a/p']);
    expect(snapshot?.invalid).toMatchObject([
      {
        id: { kind: 'File', name: 'broken.yaml' },
        code: 'ERR_RESOURCE_INVALID',
        blocks: { kind: 'all' },
        enforcementAction: 'deny',
        reason: expect.stringContaining('not valid YAML'),
      },
    ]);
    expect(snapshot?.invalidFor('anywhere')).toHaveLength(1);
  });

  it('invalid resources name the file they came from', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.yaml'), policy('team-a', 'p', 'maybe'));
    const { source } = await started({ directory: dir });
    expect(source.current()?.invalid).toMatchObject([{ id: { kind: 'TrustPolicy', name: 'p' }, source: 'bad.yaml' }]);
  });

  it('a file over the size cap is an invalid entry, not a crash', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'store.yaml'), STORE);
    writeFileSync(join(dir, 'huge.yaml'), `# ${'x'.repeat(5000)}\n`);
    const { source } = await started({ directory: dir, maxFileBytes: 4096 });
    expect(source.current()?.invalid).toMatchObject([
      {
        id: { kind: 'File', name: 'huge.yaml' },
        code: 'ERR_SIZE_LIMIT',
        blocks: { kind: 'all' },
        reason: expect.stringContaining('more than the limit of 4096'),
      },
    ]);
  });

  it('files beyond the file-count cap are not read and are reported', async () => {
    const dir = tempDir();
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, `p${i}.yaml`), i === 0 ? STORE : policy(`ns${i}`, 'p'));
    const { source } = await started({ directory: dir, maxFiles: 3 });
    expect(ids(source.current())).toEqual(['TrustPolicy ns1/p', 'TrustPolicy ns2/p']);
    expect(invalidIds(source.current())).toEqual(['File .']);
    expect(source.current()?.invalid[0]?.reason).toContain(
      'holds 5 manifest files, more than the limit of 3; p3.yaml and the 1 files after it',
    );
  });

  it('a missing directory makes start reject', async () => {
    const source = new DirectoryPolicySource({ directory: join(tempDir(), 'absent') });
    await expect(source.start(() => undefined)).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
    expect(source.current()).toBeUndefined();
    // It can be retried once the directory exists.
    await expect(source.start(() => undefined)).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
  });

  it('a reading error keeps the last good snapshot and reports it', async () => {
    const parent = tempDir();
    const dir = join(parent, 'policies');
    mkdirSync(dir);
    writeFileSync(join(dir, 'store.yaml'), STORE);
    writeFileSync(join(dir, 'policy.yaml'), policy('team-a', 'p'));
    const { source, snapshots } = await started({ directory: dir });
    const first = source.current();
    rmSync(dir, { recursive: true });
    await source.reload();
    expect(source.current()).toBe(first);
    expect(snapshots.all).toHaveLength(1);
    expect(snapshots.errors.at(-1)).toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('cannot read policy directory'),
    });
  });

  it('the periodic rescan catches changes without file-system events', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'store.yaml'), STORE);
    const { source, snapshots } = await started({ directory: dir, rescanIntervalMs: 50, watch: false });
    const next = snapshots.next();
    writeFileSync(join(dir, 'policy.yaml'), policy('team-a', 'p'));
    let snapshot = await next;
    while (ids(snapshot).length === 0) snapshot = await snapshots.next();
    expect(ids(source.current())).toEqual(['TrustPolicy team-a/p']);
  });

  it('stop() ends watching: later changes are not loaded', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'store.yaml'), STORE);
    const { source, snapshots } = await started({ directory: dir });
    await source.stop();
    writeFileSync(join(dir, 'policy.yaml'), policy('team-a', 'p'));
    await source.reload();
    expect(snapshots.all).toHaveLength(1);
    expect(ids(source.current())).toEqual([]);
  });
});
