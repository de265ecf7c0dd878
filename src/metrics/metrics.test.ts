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
    expect(text).toContain('portcullis_admission_decisions_total{endpoint="validate",result="allowed",kind="Pod",operation="CREATE"} 2');
    expect(text).toContain('portcullis_admission_decisions_total{endpoint="validate",result="denied",kind="Deployment",operation="UPDATE"} 1');
    expect(text).toContain('portcullis_image_decisions_total{endpoint="validate",result="error"} 1');
    expect(text).toContain('portcullis_cache_lookups_total{cache="verdict",result="miss"} 1');
    // Read again: nothing counted twice.
    m.observeAdmission({ endpoint: 'validate', result: 'allowed', kind: 'Pod', operation: 'CREATE' });
    expect(await m.render()).toContain('portcullis_admission_decisions_total{endpoint="validate",result="allowed",kind="Pod",operation="CREATE"} 3');
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
