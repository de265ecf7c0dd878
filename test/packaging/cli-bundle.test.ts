import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributionRegistry } from '../helpers/registry/distribution.js';

const ROOT = join(import.meta.dirname, '../..');
const IMAGE = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';

/**
 * The CLI as `make build` ships it: compiled, bundled (scripts/bundle-cli.mjs) and started from
 * its CommonJS entry with the code cache. Built into a directory with no node_modules beside it,
 * so a dependency the bundles leave out would fail here.
 */
describe('the bundled CLI (make build)', () => {
  let dir: string;
  let registry: DistributionRegistry;
  const run = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, [join(dir, 'dist', 'cli', 'main.cjs'), ...args], {
      env: { ...process.env, XDG_CACHE_HOME: join(dir, 'cache'), DOCKER_CONFIG: join(dir, 'docker') },
      encoding: 'utf8',
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-bundle-'));
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        join(ROOT, 'tsconfig.build.json'),
        '--outDir',
        join(dir, 'dist'),
      ],
      { stdio: 'pipe' },
    );
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle-cli.mjs'), join(dir, 'dist')], { stdio: 'pipe' });
    registry = await DistributionRegistry.start();
  }, 240_000);
  afterAll(async () => {
    await registry?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('runs --help, policy show, verify --oci-layout, and registry commands (undici bundled apart), keeping a code cache', () => {
    expect(run('--help').stdout).toContain('Usage: portcullis [options] [command]');
    const policy = run('policy', 'show', '--config-dir', join(ROOT, 'examples', 'config'));
    expect(policy.status, policy.stderr).toBe(0);
    expect(JSON.parse(policy.stdout)).toMatchObject({ version: '1.0' });
    for (let i = 0; i < 2; i++) {
      const verified = run(
        'verify',
        '--config-dir',
        join(ROOT, 'examples', 'config'),
        '--oci-layout',
        `${join(ROOT, 'examples', 'net-monitor-layout')}@${IMAGE}`,
      );
      expect(verified.status, verified.stderr).toBe(0);
      expect(verified.stdout).toContain('successfully verified signature');
    }
    const copied = run(
      'copy',
      '-r',
      '--from-oci-layout',
      `${join(ROOT, 'examples', 'net-monitor-layout')}:v1`,
      `${registry.host}/net-monitor:v1`,
    );
    expect(copied.status, copied.stderr).toBe(0);
    const listed = run('list', `${registry.host}/net-monitor@${IMAGE}`);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('└── application/vnd.cncf.notary.signature');
    const cached = readdirSync(join(dir, 'cache', 'portcullis', 'code-cache'))
      .map((f) => f.replace(/-[0-9a-f]{32}\.bin$/, ''))
      .sort();
    expect(cached).toEqual(['cli', 'copy', 'list', 'policy', 'undici', 'verify']);
  }, 60_000);

  it('keeps the code of an error raised inside a command bundle (each bundle has its own copy of the error class)', () => {
    const empty = mkdtempSync(join(dir, 'config-'));
    const failed = run(
      'verify',
      '--config-dir',
      empty,
      '--oci-layout',
      `${join(ROOT, 'examples', 'net-monitor-layout')}@${IMAGE}`,
    );
    expect(failed.status).toBe(2);
    expect(failed.stderr).toContain('no trust policy found');
    expect(failed.stderr).toContain('[ERR_POLICY_NOT_FOUND]');
    expect(failed.stderr).not.toContain('ERR_INTERNAL');
  }, 60_000);
});
