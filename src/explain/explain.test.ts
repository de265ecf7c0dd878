import { describe, expect, it } from 'vitest';
import type { PolicyVerdict } from '../executor/index.js';
import { PortcullisError } from '../errors/index.js';
import type { ArtifactVerification } from '../verify/index.js';
import { toPass } from './explain.js';

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
