import { describe, expect, it } from 'vitest';
import type { ConfigDir } from '../helpers/cli.js';
import { cli } from '../helpers/cli.js';
import { vector } from '../helpers/vectors.js';
import { configDirsPerTest } from '../helpers/config-dirs.js';

// INDEX.md §A: the notation CLI e2e OCI layouts, verified through `portcullis verify --oci-layout`.
const layout = (name: string) => vector('notation/e2e/oci_layout', name);
const policy = (name: string) => vector('notation/e2e/trustpolicies', name);
const key = (name: string) => vector('notation/e2e/localkeys', name);
const IMAGE = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';

interface Report {
  verified: boolean;
  reference: string;
  digest: string;
  signature: string | null;
  failedCheck: string | null;
  code: string | null;
  message: string;
  warnings: { check: string; message: string }[];
}

const configDir = configDirsPerTest();

function config(policyFile: string, stores: Record<string, string[]> = { e2e: [key('e2e.crt')] }): ConfigDir {
  const c = configDir().policyFile(policy(policyFile));
  for (const [name, files] of Object.entries(stores)) c.store('ca', name, files);
  return c;
}

async function verify(c: ConfigDir, ref: string, extra: string[] = []) {
  const result = await cli(['verify', '--config-dir', c.path, '--oci-layout', ref, '--output', 'json', ...extra]);
  return { ...result, report: result.stdout === '' ? undefined : result.json<Report>() };
}

describe('conformance: notation e2e OCI layouts (INDEX §A)', () => {
  describe('A1 e2e-valid-signature', () => {
    const ref = `${layout('e2e-valid-signature')}@${IMAGE}`;

    it.each([
      ['A1-1', 'valid_trusted_identity_trustpolicy.json', { e2e: [key('e2e.crt')] }, []],
      ['A1-2', 'trustpolicy.json', { e2e: [key('e2e.crt')] }, []],
      [
        'A1-3',
        'multi_statements_with_wildcard_registry_scope_trustpolicy.json',
        { e2e: [key('e2e.crt')] },
        ['--scope', 'localhost:5000/test-repo9'],
      ],
      ['A1-4', 'multiple_trust_store_trustpolicy.json', { e2e: [key('e2e.crt')], 'e2e-new': [key('new_e2e.crt')] }, []],
      ['A1-5', 'multiple_trusted_identity_trustpolicy.json', { e2e: [key('new_e2e.crt'), key('e2e.crt')] }, []],
    ])('%s verifies with %s', async (_id, file, stores, extra) => {
      const { status, report } = await verify(config(file, stores), ref, extra);
      expect(report).toMatchObject({ verified: true, digest: IMAGE, failedCheck: null, code: null, warnings: [] });
      expect(report?.signature).toBe('sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f');
      expect(status).toBe(0);
    });

    it('A1-3 picks the exact-scope statement over the wildcard one', async () => {
      const { report } = await verify(config('multi_statements_with_wildcard_registry_scope_trustpolicy.json'), ref, [
        '--scope',
        'localhost:5000/test-repo9',
      ]);
      expect(report?.message).toContain('trust policy "e2e"');
      const other = await verify(config('multi_statements_with_wildcard_registry_scope_trustpolicy.json'), ref, [
        '--scope',
        'localhost:5000/elsewhere',
      ]);
      expect(other.report?.message).toContain('trust policy "e2e2"');
    });

    it.each([
      ['A1-6', 'trustpolicy.json'],
      ['A1-7', 'permissive_trustpolicy.json'],
    ])('%s fails authenticity when the store holds another certificate (%s)', async (_id, file) => {
      const { status, report } = await verify(config(file, { e2e: [key('new_e2e.crt')] }), ref);
      expect(report).toMatchObject({
        verified: false,
        failedCheck: 'authenticity',
        code: 'ERR_CHAIN_UNTRUSTED',
        signature: null,
      });
      expect(report?.message).toContain("the signature's certificate chain does not contain any trusted certificate");
      expect(status).toBe(1);
    });

    it('A1-8 passes with authenticity overridden to log, and warns', async () => {
      const { status, report } = await verify(
        config('override_permissive_trustpolicy.json', { e2e: [key('new_e2e.crt')] }),
        ref,
      );
      expect(report?.verified).toBe(true);
      expect(report?.warnings).toHaveLength(1);
      expect(report?.warnings[0]?.check).toBe('authenticity');
      expect(report?.warnings[0]?.message).toContain('does not contain any trusted certificate');
      expect(status).toBe(0);
    });

    it.each([
      [
        'A1-9',
        'override_integrity_for_permissive_trustpolicy.json',
        '"integrity" verification can not be overridden in custom signature verification',
      ],
      [
        'A1-10',
        'unset_trust_store_trustpolicy.json',
        'trust policy statement "e2e" is either missing trust stores or trusted identities, both must be specified',
      ],
      [
        'A1-12',
        'wildcard_trust_store_trustpolicy.json',
        'trust policy statement "e2e" has malformed trust store value "*". The required format is <TrustStoreType>:<TrustStoreName>',
      ],
      [
        'A1-13',
        'unset_trusted_identity_trustpolicy.json',
        'trust policy statement "e2e" is either missing trust stores or trusted identities, both must be specified',
      ],
      [
        'A1-14',
        'malformed_trusted_identity_trustpolicy.json',
        'has trusted identity "x509.subject CN=e2e,O=Notary,L=Seattle,ST=WA,C=US" missing separator',
      ],
      [
        'A1-15',
        'overlapped_trusted_identity_trustpolicy.json',
        'trust policy statement "e2e" has overlapping x509 trustedIdentities',
      ],
      [
        'A1-16',
        'wildcard_plus_other_trusted_identity_trustpolicy.json',
        "uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values",
      ],
      ['A1-17', 'missing_state_trusted_identity_trustpolicy.json', 'has no mandatory RDN attribute for "ST"'],
      ['A1-18', 'missing_country_trusted_identity_trustpolicy.json', 'has no mandatory RDN attribute for "C"'],
    ])('%s rejects the whole policy document (%s) with exit status 2', async (_id, file, text) => {
      const { status, stderr, report } = await verify(config(file), ref);
      expect(status).toBe(2);
      expect(report).toMatchObject({ verified: false, code: 'ERR_POLICY_INVALID' });
      expect(stderr).toContain(text);
    });

    it('A1-11 fails when the policy names a trust store that does not exist', async () => {
      const { status, stderr, report } = await verify(config('invalid_trust_store_trustpolicy.json'), ref);
      expect(status).toBe(2);
      expect(report?.code).toBe('ERR_TRUSTSTORE_NOT_FOUND');
      expect(stderr).toContain('the trust store "invalid_store" of type "ca" does not exist');
    });

    it('verifies by tag as well as by digest', async () => {
      const { report } = await verify(config('trustpolicy.json'), `${layout('e2e-valid-signature')}:v1`);
      expect(report).toMatchObject({ verified: true, digest: IMAGE });
    });
  });

  describe('A2 policy documents', () => {
    const ref = `${layout('e2e-valid-signature')}@${IMAGE}`;

    it.each([
      ['A2-1', 'empty_registry_scope_trustpolicy.json', 'trust policy statement "e2e" has zero registry scopes'],
      [
        'A2-2',
        'malformed_registry_scope_trustpolicy.json',
        'registry scope "localhost:5000\\\\test-repo" is not valid, make sure it is a fully qualified repository without the scheme, protocol or tag',
      ],
      [
        'A2-6',
        'wildcard_plus_other_registry_scope_trustpolicy.json',
        'trust policy statement "e2e" uses wildcard registry scope \'*\', a wildcard scope cannot be used in conjunction with other scope values',
      ],
      [
        'A2-8',
        'multi_statements_with_the_same_registry_scope_trustpolicy.json',
        'registry scope "localhost:5000/test-repo8" is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement',
      ],
      [
        'A2-9',
        'multi_statements_with_multi_wildcard_registry_scope_trustpolicy.json',
        'registry scope "*" is present in multiple oci trust policy statements',
      ],
      ['A2-11', 'invalid_format_trustpolicy.json', 'malformed trust policy'],
    ])('%s: %s is invalid', async (_id, file, text) => {
      const { status, stderr } = await verify(config(file), ref);
      expect(status).toBe(2);
      expect(stderr).toContain(text);
      expect(stderr).toContain('[ERR_POLICY_INVALID]');
    });

    it.each([
      ['A2-3', 'registry_scope_trustpolicy.json', 'localhost:5000/test-repo'],
      ['A2-4', 'multiple_registry_scope_trustpolicy.json', 'localhost:5000/test-repo2'],
      ['A2-4', 'multiple_registry_scope_trustpolicy.json', 'localhost:5000/test-repo3'],
      ['A2-5', 'any_registry_scope_trust_policy.json', 'localhost:5000/anything'],
    ])('%s: %s applies to %s', async (_id, file, scope) => {
      const { report } = await verify(config(file), ref, ['--scope', scope]);
      expect(report?.verified).toBe(true);
    });

    it('A2-7 fails when no statement applies to the scope', async () => {
      const { status, stderr } = await verify(config('invalid_registry_scope_trustpolicy.json'), ref, [
        '--scope',
        'localhost:5000/e2e-other',
      ]);
      expect(status).toBe(2);
      expect(stderr).toContain(
        'has no applicable oci trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes.',
      );
      expect(stderr).toContain('[ERR_POLICY_NO_MATCH]');
    });

    it('A2-10 skip level verifies nothing and succeeds, even for an invalid signature', async () => {
      const { status, report } = await verify(
        config('skip_trustpolicy.json'),
        `${layout('e2e-invalid-signature')}@${IMAGE}`,
      );
      expect(status).toBe(0);
      expect(report).toMatchObject({ verified: true, signature: null, failedCheck: null });
      expect(report?.message).toContain('skip');
    });

    it('A2-12 accepts a statement that lists the same trust store twice (as notation does)', async () => {
      const { report } = await verify(config('overlapped_trust_store_trustpolicy.json'), ref);
      expect(report?.verified).toBe(true);
    });
  });

  describe('A3 e2e-invalid-signature', () => {
    const ref = `${layout('e2e-invalid-signature')}@${IMAGE}`;
    it.each([
      ['A3-1', 'trustpolicy.json'],
      ['A3-2', 'permissive_trustpolicy.json'],
    ])('%s fails integrity: the envelope media type is not supported (%s)', async (_id, file) => {
      const { status, report } = await verify(config(file), ref);
      expect(status).toBe(1);
      expect(report).toMatchObject({ verified: false, failedCheck: 'integrity', code: 'ERR_ENVELOPE_UNSUPPORTED' });
      expect(report?.message).toContain(
        'signature envelope format with media type "application/vnd.oci.image.layer.v1.tar" is not supported',
      );
    });
  });

  describe('A4 e2e-with-expired-cert (time-dependent: after 2023-06-27T06:10Z)', () => {
    const ref = `${layout('e2e-with-expired-cert')}@${IMAGE}`;
    const stores = { e2e: [key('expired_e2e.crt')] };

    it('A4-1 strict fails authenticTimestamp: the certificate expired', async () => {
      const { status, report } = await verify(config('trustpolicy.json', stores), ref);
      expect(status).toBe(1);
      expect(report).toMatchObject({
        verified: false,
        failedCheck: 'authenticTimestamp',
        code: 'ERR_CERT_NOT_VALID_AT_TIME',
      });
      expect(report?.message).toContain(
        'verification time is after certificate "O=Internet Widgits Pty Ltd,ST=Some-State,C=AU" validity period, it was expired at "Tue, 27 Jun 2023 06:10:00 +0000"',
      );
    });

    it.each([
      ['A4-2', 'permissive_trustpolicy.json'],
      ['A4-3', 'override_strict_trustpolicy.json'],
    ])('%s passes with a logged authenticTimestamp warning (%s)', async (_id, file) => {
      const { status, report } = await verify(config(file, stores), ref);
      expect(status).toBe(0);
      expect(report?.verified).toBe(true);
      expect(report?.warnings.map((w) => w.check)).toEqual(['authenticTimestamp']);
      expect(report?.warnings[0]?.message).toContain('authenticTimestamp was set to "log"');
      expect(report?.warnings[0]?.message).toContain('it was expired at "Tue, 27 Jun 2023 06:10:00 +0000"');
    });
  });

  describe('A5 e2e (unsigned)', () => {
    it('A5-2 fails: no signature is associated with the image', async () => {
      const ref = `${layout('e2e')}@${IMAGE}`;
      const { status, report } = await verify(config('trustpolicy.json'), ref);
      expect(status).toBe(1);
      expect(report).toMatchObject({ verified: false, code: 'ERR_NO_SIGNATURE', failedCheck: null });
      expect(report?.message).toContain(
        `no signature is associated with "${ref}", make sure the artifact was signed successfully`,
      );
    });

    it('A5-1 inspect reports no associated signature', async () => {
      const ref = `${layout('e2e')}:v1`;
      const { status, stdout } = await cli(['inspect', '--oci-layout', ref]);
      expect(status).toBe(0);
      expect(stdout).toContain('has no associated signature');
    });
  });

  describe('A6 e2e-valid-multiple-signatures (no origin expectation; inferred)', () => {
    const ref = `${layout('e2e-valid-multiple-signatures')}@${IMAGE}`;

    it('verifies through the e2e.crt signature whatever the order', async () => {
      const { report } = await verify(config('trustpolicy.json'), ref);
      expect(report?.verified).toBe(true);
      expect(report?.signature).toBe('sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f');
    });

    it('finds the signature that only its subject links (not in the tag-schema index)', async () => {
      const { stdout } = await cli(['inspect', '--oci-layout', ref, '--output', 'json']);
      const digests = (JSON.parse(stdout) as { signatures: { digest: string }[] }).signatures.map((s) => s.digest);
      expect(digests).toContain('sha256:c3ebe4a20b6832328fc5078a7795ddc1114b896e13fca2add38109c3866b5fbf');
      expect(digests).toContain('sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f');
    });

    it('stops after --max-signature-attempts failures', async () => {
      const { status, report } = await verify(config('trustpolicy.json', { e2e: [key('new_e2e.crt')] }), ref, [
        '--max-signature-attempts',
        '1',
      ]);
      expect(status).toBe(1);
      expect(report?.code).toBe('ERR_SIGNATURE_LIMIT');
      expect(report?.message).toContain('The configured limit of 1 signatures to verify per artifact exceeded');
    });
  });

  describe('A7 e2e-with-timestamped-signature (inspect only)', () => {
    it('parses the signature, its timestamp and certificates', async () => {
      const { status, stdout } = await cli([
        'inspect',
        '--oci-layout',
        `${layout('e2e-with-timestamped-signature')}:v1`,
        '--output',
        'json',
      ]);
      expect(status).toBe(0);
      const out = JSON.parse(stdout) as { digest: string; signatures: any[] };
      expect(out.digest).toBe('sha256:53b0191218aed9a3c1f7c661736ac40cfc8eb928642348fd843ba3f0483c0c20');
      const sig = out.signatures[0];
      expect(sig.signatureAlgorithm).toBe('PS256');
      expect(sig.signedAttributes.signingScheme).toBe('notary.x509');
      expect(sig.signedAttributes.signingTime).toBe('2025-01-21T09:17:46.000Z');
      expect(sig.userDefinedAttributes).toEqual({ purpose: 'e2e' });
      expect(sig.certificates[0].sha256).toBe('1717fa9d18f7e9c0f609499474adfe2b8e44172454f1d6e2183d5d04f79af475');
      expect(sig.unsignedAttributes.timestampSignature.genTime).toBe('2025-01-21T09:17:46.641Z');
      expect(sig.unsignedAttributes.timestampSignature.certificates.map((c: any) => c.sha256.slice(0, 8))).toEqual(
        expect.arrayContaining(['36e731cf', '59283806']),
      );
      expect(sig.signedArtifact).toEqual({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: out.digest,
        size: 582,
      });
    });
  });
});
