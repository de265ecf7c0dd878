import { describe, expect, it } from 'vitest';
import type { PolicyVerdict } from '../executor/index.js';
import { PortcullisError } from '../errors/index.js';
import type { ArtifactVerification } from '../verify/index.js';
import { toPass } from './explain.js';
import { renderExplanation } from './render.js';

const rejected = (
  code: string,
  signer = 'CN=mallory',
  root = { subject: 'CN=Mallory Root', sha256: 'ab'.repeat(32) },
) =>
  ({
    policy: 'TrustPolicy shop/p',
    enforcementAction: 'deny',
    verified: false,
    statement: 'signed',
    failedCheck: 'authenticity',
    code,
    message: 'rejected',
    warnings: [],
    verification: {
      signatures: [
        {
          signature: 'sha256:1',
          passed: false,
          checks: [],
          failure: { check: 'authenticity', error: new PortcullisError(code as never, 'rejected') },
          details: {
            signer,
            certificateChain: [
              { subject: signer, sha256: 'cd'.repeat(32), notAfter: new Date(0) },
              { ...root, notAfter: new Date(0) },
            ],
          },
        },
      ],
    } as unknown as ArtifactVerification,
  }) as PolicyVerdict;

describe('what would make a rejecting policy pass', () => {
  it('names the certificate the chain ends in when no trust store holds it, then the code guidance', () => {
    const lines = toPass(rejected('ERR_CHAIN_UNTRUSTED'), undefined, undefined, 'r/a@sha256:1');
    expect(lines[0]).toContain('"CN=Mallory Root" (sha256 abab');
    expect(lines.length).toBeGreaterThan(1); // docs/troubleshooting.md's checks follow
  });

  it('names the signer that is not a trusted identity and the line to add', () => {
    const [line] = toPass(rejected('ERR_IDENTITY_MISMATCH', 'C=US, O=Mallory, CN=m'), undefined, undefined, undefined);
    expect(line).toContain('add "x509.subject: C=US, O=Mallory, CN=m" to statement "signed"');
  });

  it('says to sign an unsigned image, and nothing for a verified one', () => {
    expect(toPass(rejected('ERR_NO_SIGNATURE'), undefined, undefined, 'r/a@sha256:1')[0]).toMatch(
      /^sign r\/a@sha256:1/,
    );
    expect(toPass({ ...rejected('ERR_NO_SIGNATURE'), verified: true }, undefined, undefined, undefined)).toEqual([]);
  });
});

describe('the explanation on a terminal', () => {
  it('says an image admitted only because its policy is in dryrun would be denied once it enforces', () => {
    const policy = {
      policy: 'ClusterTrustPolicy baseline',
      enforcementAction: 'dryrun',
      appliesToNamespace: true,
      why: 'namespaceSelector matches',
      appliesToImage: true,
      verdict: { verified: false, failedCheck: 'authenticity', code: 'ERR_CHAIN_UNTRUSTED', message: 'untrusted' },
      toPass: [],
    };
    const base = { image: 'r/a:1', namespace: 'prod', warnings: [], revision: 1 };
    const text = renderExplanation({ ...base, decision: 'allowed', policies: [policy] });
    expect(text).toContain('decision: ALLOWED');
    expect(text).toContain(
      'rollout:  dryrun-denied — admitted only because ClusterTrustPolicy baseline [dryrun] does not enforce; it would be DENIED',
    );
    const passing = { ...policy, verdict: { ...policy.verdict, verified: true, failedCheck: null, code: null } };
    expect(renderExplanation({ ...base, decision: 'allowed', policies: [passing] })).not.toContain('rollout:');
  });

  it('shows the control characters of hostile strings instead of acting on them', () => {
    const text = renderExplanation({
      image: 'r/a:1\u001b[2J\nto see why: rm -rf ~',
      namespace: 'shop',
      decision: 'denied',
      reason: 'x\u0007',
      warnings: [],
      revision: 1,
      policies: [],
    });
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(text.split('\n')[0]).toContain('to see why'); // no forged line
    expect(text).toContain('x\\u{7}');
  });
});
