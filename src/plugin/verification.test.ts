import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pki, codeSigningChain, type CodeSigningChain } from '../../test/helpers/pki.js';
import { makeArtifact, signArtifact } from '../../test/helpers/signed.js';
import { loadTrustPolicy, type TrustPolicyStatement } from '../policy/index.js';
import { verifySignature, type SignatureVerification, type TrustStores } from '../verify/index.js';
import { parseCertificate } from '../x509/certificate.js';
import { ProcessVerificationPlugins } from './verification.js';
import { installTestVerifier } from '../../test/helpers/plugins.js';

const artifact = makeArtifact('plugin-process').descriptor;

/** Installs the test verifier as <dir>/<name>/notation-<name>, with its behaviour file. */
const install = installTestVerifier;

describe('verification plugins run as processes (src/plugin)', () => {
  const pki = new Pki();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-vplugins-'));
  const record = join(dir, 'record.jsonl');
  let chain: CodeSigningChain;
  let stores: TrustStores;
  let statement: TrustPolicyStatement;

  beforeAll(() => {
    chain = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Plugin Process' });
    const root = [parseCertificate(chain.root.certDer)];
    stores = { get: (type, name) => (type === 'ca' && name === 'acme' ? root : undefined) };
    statement = loadTrustPolicy(
      JSON.stringify({
        version: '1.0',
        trustPolicies: [
          {
            name: 'acme',
            registryScopes: ['*'],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:acme'],
            trustedIdentities: ['testverifier.cn:Plugin Process Signer'],
          },
        ],
      }),
    ).statements[0] as TrustPolicyStatement;
    install(dir, 'verifies', { record });
    install(dir, 'rejects', { identity: 'fail' });
    install(dir, 'hangs', { hang: 'verify-signature' });
    install(dir, 'hangs-metadata', { hang: 'get-plugin-metadata' });
    install(dir, 'crashes', { crash: 'verify-signature' });
    install(dir, 'garbage', { garbage: 'verify-signature' });
    install(dir, 'floods', { flood: 'verify-signature' });
    install(dir, 'old', { version: '0.9.0' });
    install(dir, 'refuses', { fail: 'ACCESS_DENIED' });
    install(dir, 'throttled', { fail: 'THROTTLED' });
    // Killed by a signal halfway through its answer (as the OOM killer would).
    const killed = join(dir, 'killed');
    mkdirSync(killed);
    writeFileSync(join(killed, 'notation-killed'), '#!/bin/sh\necho "{"\nkill -9 $$\n', { mode: 0o755 });
    // A symlink in place of the executable: notation refuses those.
    mkdirSync(join(dir, 'linked'));
    symlinkSync(join(dir, 'verifies', 'notation-verifies'), join(dir, 'linked', 'notation-linked'));
    // Not executable.
    chmodSync(install(dir, 'noexec'), 0o644);
  });
  afterAll(() => {
    pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const plugins = (
    timeoutMs = 5000,
    extra: Partial<ConstructorParameters<typeof ProcessVerificationPlugins>[0]> = {},
  ) =>
    new ProcessVerificationPlugins({
      directory: dir,
      timeoutMs,
      sourceEnvironment: { PATH: process.env.PATH, HOME: '/home/someone', AWS_SECRET_ACCESS_KEY: 'hunter2' },
      ...extra,
    });

  async function verify(
    name: string,
    options: { min?: string; timeoutMs?: number; signer?: CodeSigningChain } = {},
  ): Promise<SignatureVerification> {
    const signer = options.signer ?? chain;
    const signed = signArtifact({
      keyPem: signer.leaf.keyPem,
      chainDer: signer.chainDer,
      artifact,
      extendedAttributes: [
        { key: 'io.cncf.notary.verificationPlugin', value: name, critical: true },
        ...(options.min === undefined
          ? []
          : [{ key: 'io.cncf.notary.verificationPluginMinVersion', value: options.min, critical: true }]),
        { key: 'io.portcullis.test.stage', value: 'prod', critical: true },
      ],
    });
    return verifySignature(
      { signature: 'sha256:sig', envelopeMediaType: signed.mediaType, envelope: signed.envelope, artifact },
      { statement, trustStores: stores, at: new Date(), plugins: plugins(options.timeoutMs) },
    );
  }

  it('verifies through a plugin that checks the identity, with a limited environment in its own directory', async () => {
    rmSync(record, { force: true });
    const r = await verify('verifies', { min: '1.0.0' });
    expect(r.passed).toBe(true);
    expect(r.details?.plugin).toMatchObject({ name: 'verifies', version: '1.0.0' });
    const runs = readFileSync(record, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { command: string; env: Record<string, string>; cwd: string });
    expect(runs.map((x) => x.command)).toEqual(['get-plugin-metadata', 'verify-signature']);
    for (const run of runs) {
      // Only what running a program needs: no credentials of the verifier.
      expect(Object.keys(run.env).sort()).toEqual(['HOME', 'PATH']);
      expect(run.env['AWS_SECRET_ACCESS_KEY']).toBeUndefined();
      expect(run.cwd).toBe(join(dir, 'verifies'));
    }
  });

  it('passes operator-named variables through, and only those', async () => {
    const p = plugins(5000, {
      environment: ['AWS_REGION'],
      sourceEnvironment: { AWS_REGION: 'eu-west-1', SECRET: 'x' },
    });
    const found = await p.find('verifies');
    rmSync(record, { force: true });
    await found?.metadata({});
    const env = (JSON.parse(readFileSync(record, 'utf8').trim()) as { env: Record<string, string> }).env;
    expect(env).toMatchObject({ AWS_REGION: 'eu-west-1' });
    expect(env['SECRET']).toBeUndefined();
    expect(env['PATH']).toBeTruthy();
  });

  it('fails authenticity when the plugin rejects the identity', async () => {
    const r = await verify('rejects');
    expect(r.failure).toMatchObject({ check: 'authenticity', error: { code: 'ERR_PLUGIN_REJECTED' } });
    expect(r.failure?.error.message).toContain('is not among the testverifier.cn identities');
  });

  it('kills a plugin that hangs past the deadline; the signature fails as "no answer" (ERR_PLUGIN_UNAVAILABLE)', async () => {
    const started = Date.now();
    const r = await verify('hangs', { timeoutMs: 700 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.failure).toMatchObject({ check: 'authenticity', error: { code: 'ERR_PLUGIN_UNAVAILABLE' } });
    expect(r.failure?.error.message).toContain('timed out after 700 ms');
  });

  it.each([
    ['crashes', 'exit status 3'],
    ['killed', 'signal SIGKILL'],
    ['throttled', 'THROTTLED'],
  ])('tells a plugin that gave no answer (%s) from one that answered: ERR_PLUGIN_UNAVAILABLE', async (name, text) => {
    // An infrastructure failure, not a verdict: the webhook hands it to its failure policy.
    const r = await verify(name);
    expect(r.passed).toBe(false);
    expect(r.failure?.error.code).toBe('ERR_PLUGIN_UNAVAILABLE');
    expect(r.failure?.error.message).toContain(text);
  });

  it.each([
    ['killed', 'dies at get-plugin-metadata'],
    ['hangs-metadata', 'hangs at get-plugin-metadata'],
  ])('gives a verdict, not "no answer", for a stranger\'s signature naming plugin "%s", which %s', async (name) => {
    // The metadata call comes before any trust check: if its silence counted, anyone able to push a
    // signature naming the plugin could turn a denial into the failure policy's "ignore".
    const stranger = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Stranger' });
    const r = await verify(name, { signer: stranger, timeoutMs: 700 });
    expect(r.passed).toBe(false);
    expect(r.failure).toMatchObject({ check: 'authenticity', error: { code: 'ERR_CHAIN_UNTRUSTED' } });
  });

  it.each([
    ['garbage', 'not JSON'],
    ['floods', 'wrote more than 1048576 bytes'],
    ['refuses', 'ACCESS_DENIED'],
  ])('fails the signature when the plugin %s', async (name, text) => {
    const r = await verify(name);
    expect(r.passed).toBe(false);
    expect(r.failure?.error.code).toBe('ERR_PLUGIN_FAILED');
    expect(r.failure?.error.message).toContain(text);
  });

  it('fails a plugin older than the minimum version the signature asks for', async () => {
    const r = await verify('old', { min: '1.0.0' });
    expect(r.failure).toMatchObject({ check: 'integrity', error: { code: 'ERR_PLUGIN_VERSION' } });
    expect(r.failure?.error.message).toBe(
      'found plugin old with version 0.9.0 but signature verification needs plugin version greater than or equal to 1.0.0',
    );
  });

  it.each([
    ['missing', 'make sure the plugin is installed'],
    ['linked', 'symbolic link'],
    ['noexec', 'not executable'],
    ['../verifies', 'not a valid plugin name'],
  ])('fails the signature when plugin "%s" cannot be used', async (name, text) => {
    const r = await verify(name);
    expect(r.failure).toMatchObject({ check: 'integrity', error: { code: 'ERR_PLUGIN_REQUIRED' } });
    expect(r.failure?.error.message).toContain(text);
  });

  it('runs at most maxConcurrent plugin processes at once; a waiter gives up at its deadline', async () => {
    const p = plugins(600, { maxConcurrent: 1 });
    const hangs = await p.find('hangs');
    const verifies = await p.find('verifies');
    const first = hangs?.verifySignature({} as never).catch((e: Error) => e);
    // The only slot is held by the hanging plugin until it is killed at 600 ms.
    const second = await verifies?.metadata({}).catch((e: Error) => e);
    expect(second).toBeInstanceOf(Error);
    expect(second).toMatchObject({ code: 'ERR_PLUGIN_UNAVAILABLE' });
    expect((second as Error).message).toContain('waited 600 ms for a free plugin slot');
    expect(((await first) as Error).message).toContain('timed out');
    // Once it is gone, the slot is free again.
    await expect(verifies?.metadata({})).resolves.toMatchObject({ name: 'verifies' });
  });
});
