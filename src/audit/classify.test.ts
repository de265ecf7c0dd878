import { describe, expect, it } from 'vitest';
import type { ImageDecision, PolicyVerdict } from '../executor/index.js';
import { classify, wouldDeny } from './classify.js';
import { buildReports } from './policy-report.js';
import type { AuditRow } from './evaluate.js';
import type { AuditTarget } from './inventory.js';

const verdict = (over: Partial<PolicyVerdict>): PolicyVerdict => ({
  policy: 'TrustPolicy team-a/prod',
  enforcementAction: 'deny',
  verified: true,
  statement: 'images',
  failedCheck: null,
  code: null,
  message: 'signature sha256:1 verified at level "strict"',
  warnings: [],
  ...over,
});
const decision = (over: Partial<ImageDecision>): ImageDecision => ({
  image: 'r/a:1',
  allowed: true,
  verdicts: [],
  warnings: [],
  ...over,
});
const rejected = (action: PolicyVerdict['enforcementAction']): PolicyVerdict =>
  verdict({
    enforcementAction: action,
    verified: false,
    failedCheck: 'authenticity',
    code: 'ERR_CHAIN_UNTRUSTED',
    message: 'not trusted',
  });

describe('audit: a decision in the words of the table and of a PolicyReport', () => {
  it('passes an image every policy verified', () => {
    expect(classify(decision({ verdicts: [verdict({})] }))).toMatchObject({
      decision: 'allowed',
      result: 'pass',
      policy: 'TrustPolicy team-a/prod',
      rule: 'images',
    });
  });

  it('skips an image no policy applies to, and one whose statement level is skip', () => {
    expect(classify(decision({}))).toMatchObject({ decision: 'allowed', result: 'skip' });
    expect(classify(decision({ verdicts: [verdict({ skipped: true })] }))).toMatchObject({ result: 'skip' });
  });

  it('fails a denied image with the deny verdict, even when a dryrun verdict comes first', () => {
    const c = classify(
      decision({ allowed: false, verdicts: [rejected('dryrun'), rejected('deny')], reason: 'denied because' }),
    );
    expect(c).toMatchObject({
      decision: 'denied',
      result: 'fail',
      code: 'ERR_CHAIN_UNTRUSTED',
      reason: 'denied because',
    });
    expect(wouldDeny(c.decision)).toBe(true);
  });

  it('says what a warn or dryrun policy would deny, though the webhook admits it', () => {
    const warned = classify(decision({ verdicts: [rejected('warn')] }));
    expect(warned).toMatchObject({ decision: 'warned', result: 'warn' });
    const dry = classify(decision({ verdicts: [rejected('dryrun')] }));
    expect(dry).toMatchObject({ decision: 'dryrun-denied', result: 'fail', code: 'ERR_CHAIN_UNTRUSTED' });
    expect(dry.reason).toContain('TrustPolicy team-a/prod statement "images": not trusted');
    expect(wouldDeny(dry.decision)).toBe(true);
    expect(wouldDeny('allowed')).toBe(false);
  });

  it('reports an error when no verdict could be reached, whichever way the failure policy went', () => {
    const error = { code: 'ERR_REGISTRY_UNREACHABLE', message: 'down', failurePolicyApplied: 'ignore' as const };
    expect(classify(decision({ error, reason: 'could not be verified' }))).toMatchObject({
      decision: 'allowed',
      result: 'error',
      code: 'ERR_REGISTRY_UNREACHABLE',
    });
    expect(classify(decision({ allowed: false, error: { ...error, failurePolicyApplied: 'fail' } }))).toMatchObject({
      decision: 'denied',
      result: 'error',
    });
  });
});

const target = (namespace: string, name: string): AuditTarget => ({
  namespace,
  workload: { apiVersion: 'apps/v1', kind: 'Deployment', name, uid: `u-${name}` },
  container: 'app',
  source: 'containers',
  image: `r/${name}:1`,
  pullSecretNames: [],
});
const row = (namespace: string, name: string, over: Partial<AuditRow>): AuditRow => ({
  target: target(namespace, name),
  decision: 'allowed',
  result: 'pass',
  reason: 'ok',
  ...over,
});

describe('audit: PolicyReports', () => {
  it('writes one result per workload container image, with the statement as the rule, and a summary', () => {
    const at = Date.UTC(2026, 0, 2, 3, 4, 5);
    const { namespaced, cluster } = buildReports(
      [
        row('b', 'web', { policy: 'TrustPolicy b/p', rule: 's', digest: 'sha256:ab' }),
        row('b', 'api', {
          result: 'fail',
          decision: 'dryrun-denied',
          policy: 'TrustPolicy b/p',
          code: 'ERR_NO_SIGNATURE',
        }),
        row('a', 'x', { result: 'skip' }),
      ],
      at,
      ['a', 'b', 'empty'],
    );
    expect(namespaced.map((r) => [r.metadata.namespace, r.summary])).toEqual([
      ['a', { pass: 0, fail: 0, warn: 0, error: 0, skip: 1 }],
      ['b', { pass: 1, fail: 1, warn: 0, error: 0, skip: 0 }],
      ['empty', { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 }],
    ]);
    const b = namespaced[1];
    expect(b).toMatchObject({ apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport' });
    expect(b?.metadata).toEqual({
      name: 'portcullis-audit',
      namespace: 'b',
      labels: { 'app.kubernetes.io/managed-by': 'portcullis' },
    });
    expect(b?.results[0]).toEqual({
      source: 'portcullis',
      policy: 'TrustPolicy b/p',
      rule: 's',
      result: 'pass',
      message: 'ok',
      scored: true,
      resources: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'b', uid: 'u-web' }],
      properties: { container: 'app', image: 'r/web:1', decision: 'allowed', digest: 'sha256:ab' },
      timestamp: { seconds: at / 1000, nanos: 0 },
    });
    expect(b?.results[1]).toMatchObject({
      result: 'fail',
      properties: { code: 'ERR_NO_SIGNATURE', decision: 'dryrun-denied' },
    });
    expect(namespaced[0]?.results[0]?.policy).toBe('none');
    expect(cluster).toMatchObject({ kind: 'ClusterPolicyReport', summary: { pass: 1, fail: 1, skip: 1 } });
  });
});
