import { describe, expect, it } from 'vitest';
import { PromMetrics } from './metrics.js';

describe("the operator's metrics", () => {
  it('exports the build, the snapshot revision and age, and the invalid documents by kind', async () => {
    let now = 10_000;
    const m = new PromMetrics({ processMetrics: false, version: '1.2.3', now: () => now });
    m.setPolicySnapshot(4, 4_000, { TrustPolicy: 2, Weird: 1, File: 1 });
    now = 16_500;
    let text = await m.render();
    expect(text).toContain(`portcullis_build_info{version="1.2.3",node="${process.versions.node}"} 1`);
    expect(text).toContain('portcullis_policy_snapshot_revision 4');
    expect(text).toContain('portcullis_policy_snapshot_age_seconds 12.5');
    expect(text).toContain('portcullis_policy_invalid_documents{kind="TrustPolicy"} 2');
    expect(text).toContain('portcullis_policy_invalid_documents{kind="other"} 1');
    m.setPolicySnapshot(5, 16_000, {}); // fixed: the kinds seen before go to 0, not stale
    text = await m.render();
    expect(text).toContain('portcullis_policy_invalid_documents{kind="TrustPolicy"} 0');
    expect(text).toContain('portcullis_policy_snapshot_revision 5');
  });

  it('times registry requests by the same bounded host label as their count', async () => {
    const m = new PromMetrics({ processMetrics: false, maxRecentRegistryHosts: 1 });
    m.observeRegistryRequest('a.example', 200, 0.02);
    m.observeRegistryRequest('b.example', 'error', 3);
    const text = await m.render();
    expect(text).toContain('portcullis_registry_request_duration_seconds_bucket{le="0.025",host="a.example"} 1');
    expect(text).toContain('portcullis_registry_request_duration_seconds_count{host="other"} 1');
  });

  it('counts revocation answers and audit results, with fixed label values', async () => {
    const m = new PromMetrics({ processMetrics: false });
    m.observeRevocation('good', 'ocsp');
    m.observeRevocation('revoked', 'crl');
    m.observeRevocation('<script>', 'elsewhere');
    m.setAuditResults({ pass: 3, fail: 1 }, 2_000_000);
    const text = await m.render();
    expect(text).toContain('portcullis_revocation_answers_total{result="good",source="ocsp"} 1');
    expect(text).toContain('portcullis_revocation_answers_total{result="revoked",source="crl"} 1');
    expect(text).toContain('portcullis_revocation_answers_total{result="other",source="other"} 1');
    expect(text).toContain('portcullis_audit_results{result="pass"} 3');
    expect(text).toContain('portcullis_audit_results{result="skip"} 0');
    expect(text).toContain('portcullis_audit_last_run_timestamp_seconds 2000');
  });

  it('counts the collections made after bursts of reviews, from 0', async () => {
    const m = new PromMetrics({ processMetrics: false });
    expect(await m.render()).toContain('portcullis_idle_collections_total 0');
    m.observeIdleCollection();
    m.observeIdleCollection();
    expect(await m.render()).toContain('portcullis_idle_collections_total 2');
  });
});
