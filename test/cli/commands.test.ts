import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { vector } from '../helpers/vectors.js';
import { configDirsPerTest } from '../helpers/config-dirs.js';

const LAYOUT = vector('notation/e2e/oci_layout/e2e-valid-signature');
const E2E_CERT = vector('notation/e2e/localkeys/e2e.crt');
const IMAGE = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';
const STRICT = {
  version: '1.0',
  trustPolicies: [
    {
      name: 'e2e',
      registryScopes: ['*'],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:e2e'],
      trustedIdentities: ['*'],
    },
  ],
};

const config = configDirsPerTest();

describe('portcullis verify (text output)', () => {
  it('prints one line naming the image, digest, policy and signature on success', async () => {
    const c = config().policy(STRICT).store('ca', 'e2e', [E2E_CERT]);
    const r = await cli(['verify', '--config-dir', c.path, '--oci-layout', `${LAYOUT}:v1`]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toContain(`${LAYOUT}:v1@${IMAGE}`);
    expect(r.stdout).toContain('trust policy "e2e" (strict)');
    expect(r.stdout).toContain('sha256:90ceaff2');
  });

  it('prints the failed check, cause and code on stderr on failure', async () => {
    const c = config()
      .policy(STRICT)
      .store('ca', 'e2e', [vector('notation/e2e/localkeys/new_e2e.crt')]);
    const r = await cli(['verify', '--config-dir', c.path, '--oci-layout', `${LAYOUT}@${IMAGE}`]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /verification of .* failed under trust policy "e2e" \(strict\): authenticity check failed: .*does not contain any trusted certificate.* \[ERR_CHAIN_UNTRUSTED\]/,
    );
  });

  it('reads the legacy trustpolicy.json when trustpolicy.oci.json is absent, and prefers the .oci.json one', async () => {
    const c = config().policy(STRICT, 'trustpolicy.json').store('ca', 'e2e', [E2E_CERT]);
    expect((await cli(['verify', '--config-dir', c.path, '--oci-layout', `${LAYOUT}:v1`])).status).toBe(0);
    c.policy({ ...STRICT, trustPolicies: [{ ...STRICT.trustPolicies[0], trustStores: ['ca:absent'] }] });
    expect((await cli(['verify', '--config-dir', c.path, '--oci-layout', `${LAYOUT}:v1`])).status).toBe(2);
  });

  it('takes the configuration directory from $NOTATION_CONFIG', async () => {
    const c = config().policy(STRICT).store('ca', 'e2e', [E2E_CERT]);
    const r = await cli(['verify', '--oci-layout', `${LAYOUT}:v1`], { env: { NOTATION_CONFIG: c.path } });
    expect(r.status).toBe(0);
  });

  it.each([
    [['verify', '--oci-layout', `${LAYOUT}`], 'ERR_INPUT_INVALID'],
    [['verify', '--oci-layout', `${LAYOUT}@sha256:zz`], 'ERR_INPUT_INVALID'],
    [['verify', '--oci-layout', `${LAYOUT}:nope`], 'ERR_LAYOUT_NOT_FOUND'],
    [['verify', '--oci-layout', '/nonexistent/dir:v1'], 'ERR_LAYOUT_INVALID'],
    [['verify', '--oci-layout', `${LAYOUT}:v1`, '--output', 'yaml'], 'ERR_INPUT_INVALID'],
    [['verify', '--oci-layout', `${LAYOUT}:v1`, '--max-signature-attempts', '0'], 'ERR_INPUT_INVALID'],
  ])('exits 2 with a stable code for bad input %j', async (args, code) => {
    const c = config().policy(STRICT).store('ca', 'e2e', [E2E_CERT]);
    const r = await cli([...args, '--config-dir', c.path]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`[${code}]`);
  });

  it('exits 2 without a trust policy', async () => {
    const r = await cli(['verify', '--config-dir', config().path, '--oci-layout', `${LAYOUT}:v1`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[ERR_POLICY_NOT_FOUND]');
  });

  it('exits 2 for an unknown option, with usage help', async () => {
    const r = await cli(['verify', '--bogus', 'x']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown option '--bogus'");
  });

  it('exits 2 when the trust store holds a symlink or a subdirectory', async () => {
    const c = config().policy(STRICT).store('ca', 'e2e', [E2E_CERT]);
    const dir = join(c.path, 'truststore/x509/ca/e2e');
    symlinkSync(E2E_CERT, join(dir, 'link.crt'));
    let r = await cli(['verify', '--config-dir', c.path, '--oci-layout', `${LAYOUT}:v1`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('symlink');
    expect(r.stderr).toContain('[ERR_TRUSTSTORE_INVALID]');
    const c2 = config().policy(STRICT).store('ca', 'e2e', [E2E_CERT]);
    mkdirSync(join(c2.path, 'truststore/x509/ca/e2e/sub'));
    r = await cli(['verify', '--config-dir', c2.path, '--oci-layout', `${LAYOUT}:v1`]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[ERR_TRUSTSTORE_INVALID]');
  });

  it('rejects a signature whose envelope blob does not match its digest, as an integrity failure', async () => {
    const { cpSync } = await import('node:fs');
    const c = config().policy(STRICT).store('ca', 'e2e', [E2E_CERT]);
    const copy = join(c.path, 'layout');
    cpSync(LAYOUT, copy, { recursive: true });
    const envelope = join(copy, 'blobs/sha256/c9af07e038b2b1a463e648986ad7273157511ffeba0b689f33e5472bae471f50');
    const bytes = readFileSync(envelope);
    bytes[100] ^= 1;
    writeFileSync(envelope, bytes);
    const r = await cli(['verify', '--config-dir', c.path, '--oci-layout', `${copy}:v1`, '--output', 'json']);
    expect(r.status).toBe(1);
    expect(r.json()).toMatchObject({ verified: false, failedCheck: 'integrity', code: 'ERR_DIGEST_MISMATCH' });
  });
});

describe('portcullis policy', () => {
  it('validate accepts a valid document and names its statements', async () => {
    const c = config().policy(STRICT);
    const r = await cli(['policy', 'validate', '--config-dir', c.path]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('is valid (1 statement: e2e)');
  });

  it('validate of a file rejects an invalid document with exit 2 and the statement and rule', async () => {
    const r = await cli([
      'policy',
      'validate',
      vector('notation/e2e/trustpolicies/wildcard_plus_other_registry_scope_trustpolicy.json'),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('trust policy statement "e2e" uses wildcard registry scope');
    expect(r.stderr).toContain('[ERR_POLICY_INVALID]');
  });

  it('show prints the document in force', async () => {
    const c = config().policy(STRICT);
    const r = await cli(['policy', 'show', '--config-dir', c.path, '--output', 'json']);
    expect(r.status).toBe(0);
    expect(r.json<{ policy: unknown }>().policy).toEqual(STRICT);
  });
});

describe('portcullis cert', () => {
  it('add validates and copies certificates into the named store; list shows them', async () => {
    const c = config();
    const add = await cli(['cert', 'add', '--config-dir', c.path, '--type', 'ca', '--store', 'acme', E2E_CERT]);
    expect(add.status).toBe(0);
    expect(existsSync(join(c.path, 'truststore/x509/ca/acme/e2e.crt'))).toBe(true);
    const list = await cli(['cert', 'list', '--config-dir', c.path, '--output', 'json']);
    expect(list.json<unknown[]>()).toEqual([
      expect.objectContaining({ type: 'ca', store: 'acme', subject: 'CN=e2e,O=Notary,L=Seattle,ST=WA,C=US' }),
    ]);
  });

  it('add refuses a non-root certificate for a tsa store and writes nothing', async () => {
    const c = config();
    const r = await cli(['cert', 'add', '--config-dir', c.path, '--type', 'tsa', '--store', 'ts', E2E_CERT]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[ERR_TRUSTSTORE_INVALID]');
    expect(existsSync(join(c.path, 'truststore/x509/tsa/ts'))).toBe(false);
  });

  it('add refuses an unknown store type', async () => {
    const r = await cli(['cert', 'add', '--config-dir', config().path, '--type', 'root', '--store', 'x', E2E_CERT]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[ERR_INPUT_INVALID]');
  });

  it('generate-test stores a key and certificate the way notation does, trusted in ca:<name>', async () => {
    const c = config();
    const r = await cli(['cert', 'generate-test', '--config-dir', c.path, 'wabbit-networks.io']);
    expect(r.status).toBe(0);
    const keys = JSON.parse(readFileSync(join(c.path, 'signingkeys.json'), 'utf8'));
    expect(keys).toEqual({
      default: 'wabbit-networks.io',
      keys: [
        {
          name: 'wabbit-networks.io',
          keyPath: join(c.path, 'localkeys/wabbit-networks.io.key'),
          certPath: join(c.path, 'localkeys/wabbit-networks.io.crt'),
        },
      ],
    });
    expect(statSync(join(c.path, 'localkeys/wabbit-networks.io.key')).mode & 0o777).toBe(0o600);
    const text = execFileSync('openssl', [
      'x509',
      '-in',
      join(c.path, 'localkeys/wabbit-networks.io.crt'),
      '-noout',
      '-text',
    ]).toString();
    expect(text).toContain('Subject: CN = wabbit-networks.io, O = Notary, L = Seattle, ST = WA, C = US');
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature/);
    expect(text).toContain('Code Signing');
    expect(text).toContain('Public-Key: (3072 bit)');
    const list = await cli(['cert', 'list', '--config-dir', c.path, '--output', 'json']);
    expect(list.json<{ store: string }[]>().map((x) => x.store)).toEqual(['wabbit-networks.io']);
    // openssl agrees the key belongs to the certificate
    const certKey = execFileSync('openssl', [
      'x509',
      '-in',
      join(c.path, 'localkeys/wabbit-networks.io.crt'),
      '-noout',
      '-pubkey',
    ]).toString();
    const keyPub = execFileSync('openssl', [
      'pkey',
      '-in',
      join(c.path, 'localkeys/wabbit-networks.io.key'),
      '-pubout',
    ]).toString();
    expect(keyPub).toBe(certKey);
  });

  it('generate-test refuses a duplicate name and an unsupported key size', async () => {
    const c = config();
    expect((await cli(['cert', 'generate-test', '--config-dir', c.path, '--key-type', 'ec', 'k1'])).status).toBe(0);
    const dup = await cli(['cert', 'generate-test', '--config-dir', c.path, 'k1']);
    expect(dup.status).toBe(2);
    const bad = await cli(['cert', 'generate-test', '--config-dir', c.path, '--bits', '1024', 'k2']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unsupported key');
  });
});

describe('portcullis inspect', () => {
  it('lists each signature with attributes and certificate chain', async () => {
    const r = await cli(['inspect', '--oci-layout', `${LAYOUT}:v1`]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f');
    expect(r.stdout).toContain('signature algorithm: PS256');
    expect(r.stdout).toContain('signed attribute signingScheme: notary.x509');
    expect(r.stdout).toContain('signed attribute signingTime: 2023-06-27T05:30:33.000Z');
    expect(r.stdout).toContain('CN=e2e,O=Notary,L=Seattle,ST=WA,C=US');
  });

  it('heads the tree with the artifact: a tag with the digest it resolved to, a digest once', async () => {
    const digest = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';
    const byTag = await cli(['inspect', '--oci-layout', `${LAYOUT}:v1`]);
    expect(byTag.stdout.split('\n')[0]).toBe(`${LAYOUT}:v1@${digest}`);
    const byDigest = await cli(['inspect', '--oci-layout', `${LAYOUT}@${digest}`]);
    expect(byDigest.status).toBe(0);
    expect(byDigest.stdout.split('\n')[0]).toBe(`${LAYOUT}@${digest}`);
  });

  it('shows the error of a signature it cannot parse instead of failing', async () => {
    const r = await cli([
      'inspect',
      '--oci-layout',
      `${vector('notation/e2e/oci_layout/e2e-invalid-signature')}:v1`,
      '--output',
      'json',
    ]);
    expect(r.status).toBe(0);
    expect(r.json<{ signatures: { error: { code: string } }[] }>().signatures[0]?.error.code).toBe(
      'ERR_ENVELOPE_UNSUPPORTED',
    );
  });
});

describe('the portcullis executable', () => {
  it('runs as a separate process and returns the exit status', () => {
    const c = config().policy(STRICT).store('ca', 'e2e', [E2E_CERT]);
    const main = resolve(import.meta.dirname, '../../src/cli/main.ts');
    const tsx = resolve(import.meta.dirname, '../../node_modules/.bin/tsx');
    const ok = spawnSync(
      tsx,
      [main, 'verify', '--config-dir', c.path, '--oci-layout', `${LAYOUT}:v1`, '--output', 'json'],
      { encoding: 'utf8' },
    );
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ verified: true, digest: IMAGE });
    const help = spawnSync(tsx, [main, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('verify');
  });
});
