import { describe, expect, it } from 'vitest';
import { NoopMetrics, PromMetrics } from './metrics.js';

describe('PromMetrics', () => {
  it('keeps its own registry, so two instances never collide', async () => {
    const a = new PromMetrics({ processMetrics: false });
    const b = new PromMetrics({ processMetrics: false });
    a.observeRegistryRequest('r.example', 429);
    expect(await a.render()).toContain('portcullis_registry_requests_total{host="r.example",status="429"} 1');
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

  it('takes a prefix', async () => {
    const m = new PromMetrics({ processMetrics: false, prefix: 'x_' });
    m.observeCacheLookup('tag', true);
    expect(await m.render()).toContain('x_cache_lookups_total{cache="tag",result="hit"} 1');
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
