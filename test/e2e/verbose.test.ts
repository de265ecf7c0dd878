import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { DistributionRegistry } from '../helpers/registry/distribution.js';
import { ReferrersRegistry } from '../helpers/registry/referrers-registry.js';

const ROOT = join(import.meta.dirname, '../..');
const EXAMPLE_LAYOUT = join(ROOT, 'examples', 'net-monitor-layout');
const EXAMPLE_CONFIG = join(ROOT, 'examples', 'config');
const IMAGE = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';

/** `--verbose` and `--debug`: every registry request and every check, on stderr. */
describe('--verbose and --debug', () => {
  let registry: DistributionRegistry;
  let referrers: ReferrersRegistry;

  beforeAll(async () => {
    registry = await DistributionRegistry.start({ auth: 'basic' });
    referrers = await ReferrersRegistry.start();
    const auth = ['-u', 'alice', '-p', 'wonderland'];
    expect(
      (
        await cli([
          'copy',
          '-r',
          '--from-oci-layout',
          `${EXAMPLE_LAYOUT}:v1`,
          `${registry.host}/net-monitor:v1`,
          ...auth,
        ])
      ).status,
    ).toBe(0);
    expect(
      (await cli(['copy', '-r', '--from-oci-layout', `${EXAMPLE_LAYOUT}:v1`, `${referrers.host}/net-monitor:v1`]))
        .status,
    ).toBe(0);
  });
  afterAll(async () => {
    await registry?.stop();
    await referrers?.stop();
  });

  it('prints each request (method, URL, status, time, bytes) and each check of verify, and warns that the tag was resolved', async () => {
    const r = await cli(['verify', '--verbose', '--config-dir', EXAMPLE_CONFIG, `${referrers.host}/net-monitor:v1`]);
    expect(r.status, r.stderr).toBe(0);
    const requests = r.stderr.split('\n').filter((l) => /^(GET|HEAD|POST|PUT|PATCH) http/.test(l));
    const url = `http://${referrers.host}/v2/net-monitor`;
    expect(requests.map((l) => l.replace(/ \(\d+ ms, .*\)$/, ''))).toEqual([
      `HEAD ${url}/manifests/v1 → 200`,
      `GET ${url}/referrers/${IMAGE}?artifactType=application%2Fvnd.cncf.notary.signature → 200`,
      expect.stringMatching(new RegExp(`^GET ${url}/manifests/sha256:[0-9a-f]{64} → 200$`)),
      expect.stringMatching(new RegExp(`^GET ${url}/blobs/sha256:[0-9a-f]{64} → 200$`)),
    ]);
    // The envelope's bytes as received, counted as they passed.
    expect(requests[3]).toMatch(/\(\d+ ms, \d+(\.\d)? (B|KiB)\)$/);
    expect(r.stderr).toContain('trust policy statement "example"');
    for (const check of ['integrity', 'authenticity', 'expiry', 'authenticTimestamp', 'revocation'])
      expect(r.stderr).toMatch(new RegExp(`^  ${check}: (passed|skipped|logged) \\(`, 'm'));
    expect(r.stderr).toContain(`always verify the artifact using digest(@${IMAGE}) rather than a tag(:v1)`);
    // Without --verbose none of it, but still the warning.
    const quiet = await cli(['verify', '--config-dir', EXAMPLE_CONFIG, `${referrers.host}/net-monitor@${IMAGE}`]);
    expect(quiet.stderr).toBe('');
  });

  it('--debug adds the headers with the credentials masked; other commands trace too', async () => {
    const r = await cli(['list', '--debug', '-u', 'alice', '-p', 'wonderland', `${registry.host}/net-monitor:v1`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^HEAD http:\/\/127\.0\.0\.1:\d+\/v2\/net-monitor\/manifests\/v1 → 401 /m);
    expect(r.stderr).toMatch(/^ {2}> authorization: Basic \*\*\*$/m);
    expect(r.stderr).toMatch(/^ {2}< Www-Authenticate: Basic realm="portcullis-test"$/m);
    expect(r.stderr).not.toContain(Buffer.from('alice:wonderland').toString('base64'));
    expect(r.stderr).not.toContain('wonderland');
    const copy = await cli(['copy', '-v', `${referrers.host}/net-monitor:v1`, `${referrers.host}/other:v1`]);
    expect(copy.stderr).toMatch(
      /^POST http:\/\/127\.0\.0\.1:\d+\/v2\/other\/blobs\/uploads\/\?mount=sha256%3A[0-9a-f]{64}&from=net-monitor → 201 /m,
    );
  });
});
