import { describe, expect, it } from 'vitest';
import { NoopMetrics, PromMetrics } from './metrics.js';

describe('PromMetrics', () => {
  it('keeps its own registry, so two instances never collide', async () => {
    const a = new PromMetrics({ processMetrics: false });
    const b = new PromMetrics({ processMetrics: false });
    a.observeRegistryRequest('r.example', 200);
    expect(await a.render()).toContain('portcullis_registry_requests_total{host="r.example",status="200"} 1');
    expect(await b.render()).not.toContain('r.example');
  });

  it('counts in-flight requests and ignores a second end()', async () => {
    const m = new PromMetrics({ processMetrics: false });
    const end = m.startRequest('validate');
    m.startRequest('validate');
    end();
    end();
    expect(await m.render()).toContain('portcullis_requests_in_flight{endpoint="validate"} 1');
  });

  it('shows every count and observation made before a scrape (they are handed to prom-client when read)', async () => {
    const m = new PromMetrics({ processMetrics: false });
    for (let i = 0; i < 5000; i++) m.observeRequestDuration('validate', 0.0002);
    m.observeRequestDuration('mutate', 2);
    m.observeAdmission({ endpoint: 'validate', result: 'allowed', kind: 'Pod', operation: 'CREATE' });
    m.observeAdmission({ endpoint: 'validate', result: 'allowed', kind: 'Pod', operation: 'CREATE' });
    m.observeAdmission({ endpoint: 'validate', result: 'denied', kind: 'Deployment', operation: 'UPDATE' });
    m.observeImageDecision('validate', 'error');
    m.observeCacheLookup('verdict', false);
    const text = await m.render();
    expect(text).toContain('portcullis_request_duration_seconds_count{endpoint="validate"} 5000');
    expect(text).toContain('portcullis_request_duration_seconds_bucket{le="0.0005",endpoint="validate"} 5000');
    expect(text).toContain('portcullis_request_duration_seconds_bucket{le="2.5",endpoint="mutate"} 1');
    expect(text).toContain(
      'portcullis_admission_decisions_total{endpoint="validate",result="allowed",kind="Pod",operation="CREATE"} 2',
    );
    expect(text).toContain(
      'portcullis_admission_decisions_total{endpoint="validate",result="denied",kind="Deployment",operation="UPDATE"} 1',
    );
    expect(text).toContain('portcullis_image_decisions_total{endpoint="validate",result="error"} 1');
    expect(text).toContain('portcullis_cache_lookups_total{cache="verdict",result="miss"} 1');
    // Read again: nothing counted twice.
    m.observeAdmission({ endpoint: 'validate', result: 'allowed', kind: 'Pod', operation: 'CREATE' });
    expect(await m.render()).toContain(
      'portcullis_admission_decisions_total{endpoint="validate",result="allowed",kind="Pod",operation="CREATE"} 3',
    );
  });

  it('takes a prefix', async () => {
    const m = new PromMetrics({ processMetrics: false, prefix: 'x_' });
    m.observeCacheLookup('tag', true);
    expect(await m.render()).toContain('x_cache_lookups_total{cache="tag",result="hit"} 1');
  });
});

describe('label values from requests are bounded', () => {
  const series = (text: string, name: string): string[] => text.split('\n').filter((l) => l.startsWith(`${name}{`));

  it('10,000 distinct registry hosts make fewer than 50 series', async () => {
    const m = new PromMetrics({ processMetrics: false, registryHosts: ['registry.internal:5000'] });
    for (let i = 0; i < 10_000; i++) {
      // an attacker's hosts: some answer (200, 401, 404), most never do
      m.observeRegistryRequest(`h${i}.attacker.example`, i % 3 === 0 ? 200 : i % 3 === 1 ? 'error' : 401);
      m.observeRegistryRequest(`h${i}.attacker.example`, 404);
    }
    m.observeRegistryRequest('registry.internal:5000', 'error');
    const rows = series(await m.render(), 'portcullis_registry_requests_total');
    expect(rows.length).toBeLessThan(50);
    // the configured registry keeps its own series even though it never succeeded
    expect(rows).toContain('portcullis_registry_requests_total{host="registry.internal:5000",status="error"} 1');
    // what no longer has its own label is counted under "other": no request goes uncounted
    const total = rows.reduce((sum, r) => sum + Number(r.split(' ').at(-1)), 0);
    expect(total).toBeGreaterThan(0);
    expect(rows.some((r) => r.includes('host="other"'))).toBe(true);
  });

  it('labels the most recently successful hosts, and forgets the series of a host that drops out', async () => {
    const m = new PromMetrics({ processMetrics: false, maxRecentRegistryHosts: 2 });
    m.observeRegistryRequest('a.example', 200);
    m.observeRegistryRequest('b.example', 200);
    m.observeRegistryRequest('a.example', 200); // a is now the most recently successful
    m.observeRegistryRequest('a.example', 503); // a known host keeps its label for any status
    m.observeRegistryRequest('c.example', 'error'); // never successful: other
    let text = await m.render();
    expect(text).toContain('portcullis_registry_requests_total{host="a.example",status="503"} 1');
    expect(text).toContain('portcullis_registry_requests_total{host="other",status="error"} 1');
    m.observeRegistryRequest('c.example', 200); // succeeds: takes the place of the least recent (b)
    text = await m.render();
    expect(text).toContain('portcullis_registry_requests_total{host="c.example",status="200"} 1');
    expect(text).not.toContain('b.example');
    expect(text).toContain('host="a.example"');
  });

  it('records kinds and operations outside the fixed lists as "other"', async () => {
    const m = new PromMetrics({ processMetrics: false });
    for (let i = 0; i < 1000; i++)
      m.observeAdmission({
        endpoint: 'validate',
        result: 'allowed',
        kind: `Kind${i}`,
        operation: i % 2 === 0 ? 'BOGUS' : 'CREATE',
      });
    m.observeAdmission({ endpoint: 'validate', result: 'allowed', kind: 'EphemeralContainers', operation: 'UPDATE' });
    const rows = series(await m.render(), 'portcullis_admission_decisions_total');
    expect(rows.sort()).toEqual([
      'portcullis_admission_decisions_total{endpoint="validate",result="allowed",kind="EphemeralContainers",operation="UPDATE"} 1',
      'portcullis_admission_decisions_total{endpoint="validate",result="allowed",kind="other",operation="CREATE"} 500',
      'portcullis_admission_decisions_total{endpoint="validate",result="allowed",kind="other",operation="other"} 500',
    ]);
  });

  it('records a status that is not an HTTP status as "error"', async () => {
    const m = new PromMetrics({ processMetrics: false, registryHosts: ['r'] });
    m.observeRegistryRequest('r', 0);
    m.observeRegistryRequest('r', 'weird');
    m.observeRegistryRequest('r', 999);
    expect(await m.render()).toContain('portcullis_registry_requests_total{host="r",status="error"} 3');
  });
});

describe('NoopMetrics', () => {
  it('records nothing', async () => {
    const m = new NoopMetrics();
    m.observeAdmission({ endpoint: 'validate', result: 'allowed', kind: 'Pod', operation: 'CREATE' });
    m.startRequest('validate')();
    expect(await m.render()).toBe('');
  });
});
