import { describe, expect, it } from 'vitest';
import type { PortcullisError } from '../errors/index.js';
import { CertificateCache } from '../x509/index.js';
import { Fingerprint, SnapshotFeed } from './feed.js';
import { API_VERSION } from './resources.js';
import type { PolicySnapshot } from './types.js';

const skipAll = (name: string): Record<string, unknown> => ({
  apiVersion: API_VERSION,
  kind: 'ClusterTrustPolicy',
  metadata: { name },
  spec: {
    version: '1.0',
    trustPolicies: [{ name: 'all', registryScopes: ['*'], signatureVerification: { level: 'skip' } }],
  },
});

function feed(): { feed: SnapshotFeed; errors: PortcullisError[]; seen: PolicySnapshot[] } {
  const errors: PortcullisError[] = [];
  const seen: PolicySnapshot[] = [];
  const f = new SnapshotFeed({ certificateCache: new CertificateCache(), onError: (e) => errors.push(e) });
  f.subscribe((s) => seen.push(s));
  return { feed: f, errors, seen };
}

describe('SnapshotFeed', () => {
  it('builds a snapshot only when the fingerprint changes, counting revisions', () => {
    const { feed: f, seen } = feed();
    const a = { fingerprint: 'a', resources: [skipAll('one')], sourceErrors: [] };
    expect(f.offer(a)?.revision).toBe(1);
    expect(f.offer(a)).toBeUndefined();
    expect(f.offer({ ...a, fingerprint: 'b', resources: [skipAll('one'), skipAll('two')] })?.revision).toBe(2);
    expect(seen.map((s) => s.revision)).toEqual([1, 2]);
    expect(f.current()).toBe(seen[1]);
  });

  it('resolves whenReady with the first snapshot, and at once after it', async () => {
    const { feed: f } = feed();
    let ready = false;
    const waiting = f.whenReady().then(() => (ready = true));
    await Promise.resolve();
    expect(ready).toBe(false);
    f.offer({ fingerprint: 'a', resources: [], sourceErrors: [] });
    await waiting;
    expect(ready).toBe(true);
    await f.whenReady();
  });

  it('reports what the subscriber throws and keeps the snapshot in force', () => {
    const { feed: f, errors } = feed();
    f.subscribe(() => {
      throw new Error('boom');
    });
    const snapshot = f.offer({ fingerprint: 'a', resources: [], sourceErrors: [] });
    expect(f.current()).toBe(snapshot);
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      ['ERR_INTERNAL', 'the policy snapshot handler failed: Error: boom'],
    ]);
  });

  it('keeps the last valid version of a policy that a later reading breaks', () => {
    const { feed: f } = feed();
    f.offer({ fingerprint: 'a', resources: [skipAll('one')], sourceErrors: [] });
    const broken = { ...skipAll('one'), spec: { version: '9' } };
    const next = f.offer({ fingerprint: 'b', resources: [broken], sourceErrors: [] });
    expect(next?.documentsFor('any').map((d) => d.id.name)).toEqual(['one']);
    expect(next?.invalid.map((i) => i.id.name)).toEqual(['one']);
  });
});

describe('Fingerprint', () => {
  it('separates its parts', () => {
    expect(new Fingerprint().add('ab', 'c').digest()).not.toBe(new Fingerprint().add('a', 'bc').digest());
    expect(new Fingerprint().add('a', 1).digest()).toBe(new Fingerprint().add('a', '1').digest());
  });
});
