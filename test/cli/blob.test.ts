import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvelope, parsePayload } from '../../src/envelope/index.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import { vector } from '../helpers/vectors.js';
import { TEST_SIGNER, installPlugin } from '../helpers/plugins.js';

const LICENSE = vector('notation/e2e/signatures/signed-blob-LICENSE.txt');

interface VerifyJson {
  verified: boolean;
  code: string | null;
  failedCheck: string | null;
  message: string;
  descriptor?: { mediaType: string; digest: string; size: number };
  warnings: { check: string; message: string }[];
  userMetadata?: Record<string, string>;
}

/** `portcullis blob …` as a user runs it: files in a directory, a notation configuration directory. */
describe('portcullis blob', () => {
  const work = mkdtempSync(join(tmpdir(), 'portcullis-blob-'));
  const signer = new ConfigDir();
  const verifier = new ConfigDir();
  const blob = join(work, 'release.tar.gz');
  const content = 'the release artifact\n'.repeat(1000);

  const run = (args: string[], config = verifier) => cli([...args, '--config-dir', config.path]);
  const verify = async (args: string[], config = verifier) => {
    const r = await run(['blob', 'verify', '-o', 'json', ...args], config);
    return { status: r.status, stderr: r.stderr, ...r.json<VerifyJson>() };
  };

  beforeAll(async () => {
    writeFileSync(blob, content);
    expect((await run(['cert', 'generate-test', '--default', 'wabbit'], signer)).status).toBe(0);
    expect((await run(['cert', 'generate-test', '--key-type', 'ec', 'ec-signer'], signer)).status).toBe(0);
    // The verifier trusts the signer's test certificate.
    const store = join(signer.path, 'truststore/x509/ca/wabbit');
    verifier.store('ca', 'wabbit', [join(store, 'wabbit.crt')]);
    verifier.store('ca', 'ec', [join(signer.path, 'truststore/x509/ca/ec-signer/ec-signer.crt')]);
    const init = await run([
      'blob',
      'policy',
      'init',
      '--name',
      'wabbit',
      '--trust-store',
      'ca:wabbit',
      '--trusted-identity',
      'x509.subject: CN=wabbit, O=Notary, L=Seattle, ST=WA, C=US',
      '--global',
    ]);
    expect(init.status, init.stderr).toBe(0);
  });
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
    signer.cleanup();
    verifier.cleanup();
  });

  describe('sign', () => {
    it('writes <file>.jws.sig beside the file: a JWS over the blob descriptor, sha384 for the RSA-3072 test key', async () => {
      const r = await run(['blob', 'sign', blob], signer);
      expect(r.status, r.stderr).toBe(0);
      const sig = `${blob}.jws.sig`;
      expect(r.stdout).toBe(`Successfully signed ${blob}\nSignature file written to ${sig}\n`);
      const envelope = parseEnvelope('application/jose+json', new Uint8Array(readFileSync(sig)));
      expect(parsePayload(envelope.payload).targetArtifact).toEqual({
        mediaType: 'application/octet-stream',
        digest: `sha384:${createHash('sha384').update(content).digest('hex')}`,
        size: content.length,
      });
      expect(envelope.unsigned.signingAgent).toBe('portcullis/0.1.0');
    });

    it('never replaces a signature without --force', async () => {
      const before = readFileSync(`${blob}.jws.sig`);
      const again = await run(['blob', 'sign', blob], signer);
      expect(again.status).toBe(2);
      expect(again.stderr).toContain('ERR_SIGNATURE_FILE_EXISTS');
      expect(readFileSync(`${blob}.jws.sig`)).toEqual(before);
      expect((await run(['blob', 'sign', '--force', blob], signer)).status).toBe(0);
    });

    it('COSE, another directory, media type, user metadata, expiry; sha256 for an EC P-256 key', async () => {
      const dir = join(work, 'sigs');
      const r = await run(
        [
          'blob',
          'sign',
          '--key',
          'ec-signer',
          '--signature-format',
          'cose',
          '--signature-directory',
          dir,
          '--media-type',
          'application/vnd.example.release+gzip',
          '-m',
          'buildId=101',
          '--expiry',
          '24h',
          '-o',
          'json',
          blob,
        ],
        signer,
      );
      expect(r.status, r.stderr).toBe(0);
      const out = r.json<{ signature: string; descriptor: Record<string, unknown> }>();
      expect(out.signature).toBe(join(dir, 'release.tar.gz.cose.sig'));
      expect(out.descriptor).toEqual({
        mediaType: 'application/vnd.example.release+gzip',
        digest: `sha256:${createHash('sha256').update(content).digest('hex')}`,
        size: content.length,
        annotations: { buildId: '101' },
      });
      const envelope = parseEnvelope('application/cose', new Uint8Array(readFileSync(out.signature)));
      expect(envelope.signed.expiry).toBeDefined();
    });

    it('signs through a signing plugin (describe-key decides the digest algorithm)', async () => {
      installPlugin(TEST_SIGNER, join(signer.path, 'plugins', 'testsigner', 'notation-testsigner'));
      const dir = join(work, 'plugin-sigs');
      const r = await run(
        [
          'blob',
          'sign',
          '--plugin',
          'testsigner',
          '--id',
          'k1',
          '--plugin-config',
          `keyPath=${join(signer.path, 'localkeys/ec-signer.key')}`,
          '--plugin-config',
          `certPath=${join(signer.path, 'localkeys/ec-signer.crt')}`,
          '--signature-directory',
          dir,
          blob,
        ],
        signer,
      );
      expect(r.status, r.stderr).toBe(0);
      const v = await verify(
        ['--policy-name', 'ec', '--signature', join(dir, 'release.tar.gz.jws.sig'), blob],
        ecVerifier,
      );
      expect(v).toMatchObject({ status: 0, verified: true });
    });
  });

  // A second verifier configuration trusting the EC key under a named (non-global) statement.
  const ecVerifier = new ConfigDir();
  beforeAll(async () => {
    ecVerifier.store('ca', 'ec', [join(signer.path, 'truststore/x509/ca/ec-signer/ec-signer.crt')]);
    const policy = join(work, 'ec-policy.json');
    writeFileSync(
      policy,
      JSON.stringify({
        version: '1.0',
        trustPolicies: [
          { name: 'ec', signatureVerification: { level: 'strict' }, trustStores: ['ca:ec'], trustedIdentities: ['*'] },
          { name: 'skip-all', signatureVerification: { level: 'skip' } },
        ],
      }),
    );
    expect((await run(['blob', 'policy', 'import', policy], ecVerifier)).status).toBe(0);
  });
  afterAll(() => ecVerifier.cleanup());

  describe('verify', () => {
    const sig = () => `${blob}.jws.sig`;
    const cose = () => join(work, 'sigs', 'release.tar.gz.cose.sig');

    it('verifies the file against the global statement', async () => {
      expect(await verify(['--signature', sig(), blob])).toMatchObject({ status: 0, verified: true, code: null });
      const text = await run(['blob', 'verify', '--signature', sig(), blob]);
      expect(text.stdout).toContain(`Successfully verified signature ${sig()} of ${blob}`);
    });

    it('rejects the file once a byte changed, and a file of another size', async () => {
      const copy = join(work, 'tampered.tar.gz');
      writeFileSync(copy, content.replace('release', 'Release'));
      expect(await verify(['--signature', sig(), copy])).toMatchObject({
        status: 1,
        verified: false,
        failedCheck: 'integrity',
        code: 'ERR_PAYLOAD_MISMATCH',
      });
      writeFileSync(copy, `${content}!`);
      expect(await verify(['--signature', sig(), copy])).toMatchObject({ status: 1, code: 'ERR_PAYLOAD_MISMATCH' });
    });

    it('checks the media type only when asked, and the user metadata', async () => {
      const args = ['--policy-name', 'ec', '--signature', cose(), blob];
      expect(await verify(args, ecVerifier)).toMatchObject({ status: 0, userMetadata: { buildId: '101' } });
      expect(await verify(['--media-type', 'application/vnd.example.release+gzip', ...args], ecVerifier)).toMatchObject(
        { status: 0 },
      );
      expect(await verify(['--media-type', 'application/zip', ...args], ecVerifier)).toMatchObject({
        status: 1,
        code: 'ERR_PAYLOAD_MISMATCH',
      });
      expect(await verify(['-m', 'buildId=101', ...args], ecVerifier)).toMatchObject({ status: 0 });
      expect(await verify(['-m', 'buildId=zzz', ...args], ecVerifier)).toMatchObject({
        status: 1,
        code: 'ERR_METADATA_MISMATCH',
      });
      const text = await run(['blob', 'verify', '-m', 'buildId=101', ...args], ecVerifier);
      expect(text.stdout).toContain('The signature contains the following user metadata:');
      expect(text.stdout).toMatch(/buildId\s+101/);
    });

    it('picks the statement --policy-name names; without one and without a global statement it is a configuration error', async () => {
      const noGlobal = await run(['blob', 'verify', '--signature', cose(), blob], ecVerifier);
      expect(noGlobal.status).toBe(2);
      expect(noGlobal.stderr).toContain('ERR_POLICY_NO_MATCH');
      const missing = await run(
        ['blob', 'verify', '--policy-name', 'skip-all', '--signature', join(work, 'nothing.jws.sig'), blob],
        ecVerifier,
      );
      expect(missing.status).toBe(2);
      expect(missing.stderr).toContain('cannot read signature');
      writeFileSync(join(work, 'junk.jws.sig'), 'junk');
      expect(
        await verify(['--policy-name', 'skip-all', '--signature', join(work, 'junk.jws.sig'), blob], ecVerifier),
      ).toMatchObject({ status: 0, verified: true });
    });

    it('rejects a signer the statement does not trust', async () => {
      // The COSE signature is the EC key's; the global statement trusts only the RSA test key.
      expect(await verify(['--signature', cose(), blob])).toMatchObject({
        status: 1,
        failedCheck: 'authenticity',
        code: 'ERR_CHAIN_UNTRUSTED',
      });
    });

    it.each([
      ['unknown.sig', 'invalid signature filename unknown.sig'],
      ['hello.unknown.sig', 'signature format "unknown" not supported'],
      ['release.jws', 'The file extension must be .sig'],
    ])('refuses the signature file name %s as notation does', async (name, text) => {
      writeFileSync(join(work, name), readFileSync(sig()));
      const r = await run(['blob', 'verify', '--signature', join(work, name), blob]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(text);
    });
  });

  describe("notation's own blob signature (INDEX.md A8)", () => {
    const signature = vector('notation/e2e/signatures/blob.jws.sig');

    it('A8-1 inspect shows what notation blob inspect shows', async () => {
      const r = await cli(['blob', 'inspect', '-o', 'json', signature]);
      expect(r.status, r.stderr).toBe(0);
      const view = r.json<Record<string, any>>();
      expect(view).toMatchObject({
        signatureAlgorithm: 'RSASSA-PSS-SHA-256',
        mediaType: 'application/jose+json',
        signedAttributes: { signingScheme: 'notary.x509', signingTime: '2024-12-31T08:05:29.000Z' },
        userDefinedAttributes: {},
        unsignedAttributes: {
          signingAgent: 'notation-go/1.3.0+unreleased',
          timestampSignature: { timestamp: '[2024-12-31T08:05:29.509Z, 2024-12-31T08:05:30.509Z]' },
        },
        signedArtifact: {
          mediaType: 'application/octet-stream',
          digest: 'sha256:c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4',
          size: 11357,
        },
      });
      expect(view['certificates'][0].sha256).toMatch(/^dadee19c/);
      const text = await cli(['blob', 'inspect', signature]);
      expect(text.stdout).toContain('└── signed artifact');
      expect(text.stdout).toContain('digest: sha256:c71d239d');
    });

    it('inspect prints what anyone may edit (the unsigned header) escaped: no forged line, no terminal control', async () => {
      const jws = JSON.parse(readFileSync(signature, 'utf8')) as { header: Record<string, unknown> };
      jws.header['io.cncf.notary.signingAgent'] = 'x\u001b[2J\r\n└── trust decision: verified';
      const edited = join(work, 'edited.jws.sig');
      writeFileSync(edited, JSON.stringify(jws));
      const r = await cli(['blob', 'inspect', edited]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.includes('\u001b') || r.stdout.includes('\r')).toBe(false);
      expect(r.stdout.split('\n').filter((l) => l.includes('trust decision'))).toEqual([
        '│   ├── signingAgent: x\\u{1b}[2J\\u{d}\\u{a}└── trust decision: verified',
      ]);
    });

    it('a signature path that is not a regular file (a FIFO, a device) is refused at once, not waited on', async () => {
      const fifo = join(work, 'pipe.jws.sig');
      execFileSync('mkfifo', [fifo]);
      const device = join(work, 'zero.jws.sig');
      symlinkSync('/dev/zero', device);
      for (const path of [fifo, device]) {
        const r = await cli(['blob', 'inspect', path]);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain(`cannot read signature "${path}": not a regular file [ERR_INPUT_INVALID]`);
      }
    }, 20_000);

    it('A8-2 a malformed signature fails to parse', async () => {
      const r = await cli(['blob', 'inspect', vector('notation/e2e/signatures/malformed.jws.sig')]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('failed to parse signature');
    });

    it("verifies notation's signature of its LICENSE file (its expired signing certificate only logged under permissive)", async () => {
      const c = new ConfigDir();
      try {
        // Trust the certificate the signature carries (a self-signed test certificate).
        const cert = parseEnvelope('application/jose+json', new Uint8Array(readFileSync(signature))).unsigned
          .certificateChain[0];
        c.storeBytes('ca', 'notation-e2e', 'cert.der', cert?.der as Uint8Array);
        c.policy(
          {
            version: '1.0',
            trustPolicies: [
              {
                name: 'e2e',
                signatureVerification: { level: 'permissive' },
                trustStores: ['ca:notation-e2e'],
                trustedIdentities: ['*'],
                globalPolicy: true,
              },
            ],
          },
          'trustpolicy.blob.json',
        );
        const ok = await verify(['--signature', signature, LICENSE], c);
        expect(ok).toMatchObject({ status: 0, verified: true });
        expect(ok.warnings.map((w) => w.check)).toContain('authenticTimestamp');
        const other = join(work, 'LICENSE');
        writeFileSync(other, readFileSync(LICENSE, 'utf8').replace('Apache', 'Apachf'));
        expect(await verify(['--signature', signature, other], c)).toMatchObject({
          status: 1,
          code: 'ERR_PAYLOAD_MISMATCH',
        });
      } finally {
        c.cleanup();
      }
    });
  });

  describe('policy init, import, show', () => {
    it('init writes one strict statement (mode 0600) and refuses to replace it without --force', async () => {
      const c = new ConfigDir();
      try {
        const args = ['blob', 'policy', 'init', '--name', 'p', '--trust-store', 'ca:s', '--trusted-identity', '*'];
        expect((await run(args, c)).status).toBe(0);
        const file = join(c.path, 'trustpolicy.blob.json');
        expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
          version: '1.0',
          trustPolicies: [
            { name: 'p', signatureVerification: { level: 'strict' }, trustStores: ['ca:s'], trustedIdentities: ['*'] },
          ],
        });
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const again = await run([...args, '--global'], c);
        expect(again.status).toBe(2);
        expect(again.stderr).toContain('ERR_POLICY_EXISTS');
        expect((await run([...args, '--global', '--force'], c)).status).toBe(0);
        const shown = await run(['blob', 'policy', 'show'], c);
        expect(JSON.parse(shown.stdout).trustPolicies[0].globalPolicy).toBe(true);
        // The OCI policy is another file, untouched.
        expect(existsSync(join(c.path, 'trustpolicy.oci.json'))).toBe(false);
      } finally {
        c.cleanup();
      }
    });

    it("A2-14 imports notation's blob policies; an invalid one is refused before anything is written", async () => {
      const c = new ConfigDir();
      try {
        expect(
          (await run(['blob', 'policy', 'import', vector('notation/e2e/trustpolicies-blob/trustpolicy.blob.json')], c))
            .status,
        ).toBe(0);
        expect((await run(['blob', 'policy', 'show'], c)).status).toBe(0);
        const bad = await run(
          [
            'blob',
            'policy',
            'import',
            '--force',
            vector('notation/e2e/trustpolicies/malformed_trusted_identity_trustpolicy.json'),
          ],
          c,
        );
        expect(bad.status).toBe(2);
        expect(bad.stderr).toContain('ERR_POLICY_INVALID');
        expect(readFileSync(join(c.path, 'trustpolicy.blob.json'), 'utf8')).toBe(
          readFileSync(vector('notation/e2e/trustpolicies-blob/trustpolicy.blob.json'), 'utf8'),
        );
        const none = await run(['blob', 'policy', 'show'], new ConfigDir());
        expect(none.status).toBe(2);
        expect(none.stderr).toContain('ERR_POLICY_NOT_FOUND');
      } finally {
        c.cleanup();
      }
    });
  });
});
