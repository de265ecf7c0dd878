import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVE_CONFIG, resolveServeConfig } from './serve-config.js';

const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
const example = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1] as string;

describe('serve configuration', () => {
  it('documents every default exactly (docs/configuration.md)', () => {
    expect(resolveServeConfig(parseYaml(example))).toEqual(DEFAULT_SERVE_CONFIG);
  });

  it('uses the defaults for an empty file', () => {
    expect(resolveServeConfig(null)).toEqual(DEFAULT_SERVE_CONFIG);
  });

  it('overrides single settings and keeps the rest', () => {
    const c = resolveServeConfig({
      webhook: { failurePolicy: 'ignore' },
      registries: { hosts: { 'localhost:5000': { plainHttp: true } } },
    });
    expect(c.webhook.failurePolicy).toBe('ignore');
    expect(c.webhook.timeoutSeconds).toBe(10);
    expect(c.registries.hosts).toEqual({ 'localhost:5000': { plainHttp: true, caFile: undefined } });
  });

  it('leaves the share of the registry body budget one registry may hold to half the budget unless set', () => {
    expect(resolveServeConfig({}).registries.maxBufferedBytesPerRegistry).toBeUndefined();
    const c = resolveServeConfig({
      registries: { maxBufferedBytes: 128 * 1024 * 1024, maxBufferedBytesPerRegistry: 96 * 1024 * 1024 },
    });
    expect(c.registries.maxBufferedBytesPerRegistry).toBe(96 * 1024 * 1024);
  });

  it('takes Secrets and ConfigMaps of revocation material by kind, namespace and name', () => {
    const c = resolveServeConfig({
      verification: { revocationMaterialRefs: ['ConfigMap/portcullis/crls', 'Secret/kube-system/ocsp.responses'] },
    });
    expect(c.verification.revocationMaterialRefs).toEqual([
      'ConfigMap/portcullis/crls',
      'Secret/kube-system/ocsp.responses',
    ]);
  });

  it('takes name servers as c-ares takes them, and leaves timeouts to resolv.conf unless set', () => {
    const c = resolveServeConfig({ dns: { servers: ['10.96.0.10', '127.0.0.1:5353', '::1', '[fd00::53]:53'] } });
    expect(c.dns).toEqual({
      servers: ['10.96.0.10', '127.0.0.1:5353', '::1', '[fd00::53]:53'],
      timeoutMilliseconds: undefined,
      attempts: undefined,
      maxTtlSeconds: 300,
      negativeTtlSeconds: 5,
    });
  });

  it.each([
    [{ webhok: {} }, 'webhok'],
    [{ webhook: { timeout: 3 } }, 'webhook.timeout'],
    [{ webhook: { failurePolicy: 'open' } }, 'must be one of fail, ignore'],
    [{ webhook: { timeoutSeconds: 45 } }, 'at most 30'],
    [{ cache: { verdictTtlSeconds: -1 } }, 'non-negative'],
    [{ registries: { hosts: { 'http://x': {} } } }, 'not a registry host'],
    [{ registries: { hosts: { 'x:5000': { insecure: true } } } }, 'not a known setting'],
    [[1, 2], 'must be a mapping'],
    [{ dns: { servers: ['10.0.0.1', 'dns.example'] } }, 'dns.servers[1]'],
    [{ dns: { servers: '10.0.0.1' } }, 'must be a list'],
    [{ dns: { servers: ['[::1]:99999'] } }, 'dns.servers[0]'],
    [{ dns: { attempts: 0 } }, 'dns.attempts'],
    [{ memory: { idleCollectionSeconds: -1 } }, 'memory.idleCollectionSeconds'],
    [{ memory: { idleCollectionMinReviews: 0 } }, 'memory.idleCollectionMinReviews'],
    [{ registries: { maxHostsPerReview: 0 } }, 'registries.maxHostsPerReview'],
    [{ registries: { maxImagesPerReview: 2.5 } }, 'registries.maxImagesPerReview'],
    [{ registries: { maxBufferedBytesPerRegistry: 1024 } }, 'registries.maxBufferedBytesPerRegistry'],
    [{ registries: { maxBufferedBytesPerRegistry: 128 * 1024 * 1024 } }, 'at most registries.maxBufferedBytes'],
    [{ registries: { maxBufferedBytesPerRegistry: 5e6 + 0.5 } }, 'registries.maxBufferedBytesPerRegistry'],
    [{ verification: { revocationMaterialRefs: 'ConfigMap/a/b' } }, 'must be a list of ConfigMap'],
    [{ verification: { revocationMaterialRefs: ['Deployment/a/b'] } }, 'verification.revocationMaterialRefs[0]'],
    [{ verification: { revocationMaterialRefs: ['ConfigMap/crls'] } }, 'must be ConfigMap/<namespace>/<name>'],
  ])('rejects %j with a message naming the setting', (input, text) => {
    expect(() => resolveServeConfig(input)).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringContaining(text) }),
    );
  });
});
