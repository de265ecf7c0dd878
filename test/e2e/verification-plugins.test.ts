import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SERVE_CONFIG, type ServeConfig } from '../../src/config/serve-config.js';
import { RegistryClient } from '../../src/registry/index.js';
import { ConfigDir, cli } from '../helpers/cli.js';
import { Pki, codeSigningChain, type CodeSigningChain } from '../helpers/pki.js';
import { installTestVerifier, pushEnvelope } from '../helpers/plugins.js';
import { DistributionRegistry } from '../helpers/registry/distribution.js';
import { pushImage } from '../helpers/registry/seed.js';
import { signArtifact } from '../helpers/signed.js';
import { TestWebhook } from '../helpers/webhook.js';

/**
 * Signatures that name a verification plugin, in the real registry (docker-registry), verified
 * through real plugin executables: by `portcullis verify` from <config-dir>/plugins, and by the
 * webhook from `plugins.directory`.
 */
const CASES = {
  good: { plugin: 'testverifier' },
  rejected: { plugin: 'rejecting' },
  hangs: { plugin: 'hanging' },
  crashes: { plugin: 'crashing' },
  garbage: { plugin: 'garbling' },
  old: { plugin: 'testverifier', min: '2.0.0' },
  absent: { plugin: 'nowhere' },
} as const;
type Case = keyof typeof CASES;

function installAll(pluginsDir: string): void {
  installTestVerifier(pluginsDir, 'testverifier');
  installTestVerifier(pluginsDir, 'rejecting', { identity: 'fail' });
  installTestVerifier(pluginsDir, 'hanging', { hang: 'verify-signature' });
  installTestVerifier(pluginsDir, 'crashing', { crash: 'verify-signature' });
  installTestVerifier(pluginsDir, 'garbling', { garbage: 'verify-signature' });
}

describe('verification plugins end to end', () => {
  const pki = new Pki();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-plugins-e2e-'));
  const config = new ConfigDir();
  let registry: DistributionRegistry;
  let chain: CodeSigningChain;
  const images = {} as Record<Case, string>;

  beforeAll(async () => {
    chain = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Plugin E2E' });
    registry = await DistributionRegistry.start();
    const client = new RegistryClient({ plainHttp: () => true });
    for (const [name, c] of Object.entries(CASES)) {
      const repo = { registry: registry.host, repository: `plugins/${name}` };
      const subject = await pushImage(client, repo, 'v1', name);
      const signed = signArtifact({
        keyPem: chain.leaf.keyPem,
        chainDer: chain.chainDer,
        artifact: subject,
        extendedAttributes: [
          { key: 'io.cncf.notary.verificationPlugin', value: c.plugin, critical: true },
          ...('min' in c ? [{ key: 'io.cncf.notary.verificationPluginMinVersion', value: c.min, critical: true }] : []),
          { key: 'io.portcullis.test.pipeline', value: 'release', critical: true },
        ],
      });
      await pushEnvelope(client, repo, subject, signed);
      images[name as Case] = `${registry.host}/plugins/${name}@${subject.digest}`;
    }
    await client.close();
    config
      .policy({
        version: '1.0',
        trustPolicies: [
          {
            name: 'plugin-signed',
            registryScopes: ['*'],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:plugin'],
            trustedIdentities: ['testverifier.cn:Plugin E2E Signer'],
          },
        ],
      })
      .storeBytes('ca', 'plugin', 'root.crt', chain.root.certPem);
    installAll(join(config.path, 'plugins'));
  });

  afterAll(async () => {
    await registry?.stop();
    pki.cleanup();
    config.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('portcullis verify (plugins in <config-dir>/plugins)', () => {
    const verify = async (c: Case, extra: string[] = []) => {
      const r = await cli(['verify', '--config-dir', config.path, '--plain-http', images[c], '-o', 'json', ...extra]);
      return {
        status: r.status,
        ...r.json<{ verified: boolean; failedCheck: string | null; code: string | null; message: string }>(),
      };
    };

    it('verifies through the plugin that checks the identity', async () => {
      expect(await verify('good')).toMatchObject({ status: 0, verified: true });
    });

    it('passes --plugin-config to the plugin (here: it makes the plugin reject the identity)', async () => {
      expect(await verify('good', ['--plugin-config', 'identity=fail'])).toMatchObject({
        status: 1,
        failedCheck: 'authenticity',
        code: 'ERR_PLUGIN_REJECTED',
      });
    });

    it.each([
      ['rejected', 'authenticity', 'ERR_PLUGIN_REJECTED'],
      ['crashes', 'authenticity', 'ERR_PLUGIN_UNAVAILABLE'],
      ['garbage', 'authenticity', 'ERR_PLUGIN_FAILED'],
      ['old', 'integrity', 'ERR_PLUGIN_VERSION'],
      ['absent', 'integrity', 'ERR_PLUGIN_REQUIRED'],
    ] as const)('fails the %s case (%s, %s)', async (c, check, code) => {
      expect(await verify(c)).toMatchObject({ status: 1, verified: false, failedCheck: check, code });
    });

    it('-v names the plugin and its version', async () => {
      const r = await cli(['verify', '-v', '--config-dir', config.path, '--plain-http', images.good]);
      expect(r.stderr).toContain('verification plugin testverifier 1.0.0');
    });
  });

  describe('the webhook (plugins.directory)', () => {
    let webhook: TestWebhook;
    let bare: TestWebhook;

    const start = async (name: string, plugins: ServeConfig['plugins']): Promise<TestWebhook> => {
      const policies = join(dir, `policies-${name}`);
      mkdirSync(policies, { recursive: true });
      const cert = chain.root.certPem.replace(/^/gm, '      ');
      writeFileSync(
        join(policies, 'policy.yaml'),
        `apiVersion: v1
kind: Namespace
metadata: { name: apps, labels: { portcullis.dev/enforce: "true" } }
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustStore
metadata: { name: plugin }
spec:
  type: ca
  certificates: |
${cert}
---
apiVersion: portcullis.dev/v1alpha1
kind: ClusterTrustPolicy
metadata: { name: plugin-signed }
spec:
  enforcementAction: deny
  namespaceSelector: { matchLabels: { portcullis.dev/enforce: "true" } }
  version: "1.0"
  trustPolicies:
    - name: plugin-signed
      registryScopes: ["*"]
      signatureVerification: { level: strict }
      trustStores: ["ca:plugin"]
      trustedIdentities: ["testverifier.cn:Plugin E2E Signer"]
`,
      );
      return TestWebhook.start({
        policies,
        devCertDir: join(dir, `cert-${name}`),
        plainHttp: [registry.host],
        plugins,
      });
    };

    beforeAll(async () => {
      const pluginsDir = join(dir, 'plugins');
      installAll(pluginsDir);
      webhook = await start('plugins', { ...DEFAULT_SERVE_CONFIG.plugins, directory: pluginsDir, timeoutSeconds: 1 });
      bare = await start('bare', DEFAULT_SERVE_CONFIG.plugins);
    });
    afterAll(async () => {
      await webhook?.stop();
      await bare?.stop();
    });

    const review = (c: Case, on = webhook) => on.review(images[c], 'apps');

    it('admits a pod whose signature the plugin verifies', async () => {
      expect(await review('good')).toMatchObject({ allowed: true });
    });

    it.each([
      ['rejected', 'ERR_PLUGIN_REJECTED'],
      ['garbage', 'ERR_PLUGIN_FAILED'],
      ['old', 'ERR_PLUGIN_VERSION'],
      ['absent', 'ERR_PLUGIN_REQUIRED'],
    ] as const)('denies the %s case, saying why (%s)', async (c, text) => {
      const r = await review(c);
      expect(r.allowed).toBe(false);
      expect(r.status?.message).toContain(text);
    });

    it.each([
      ['hangs', 'timed out after 1000 ms'],
      ['crashes', 'exit status 3'],
    ] as const)(
      'hands a plugin that %s to the failure policy (fail: denied, ERR_PLUGIN_UNAVAILABLE), and caches no verdict',
      async (c, text) => {
        const r = await review(c);
        expect(r.allowed).toBe(false);
        expect(r.status?.message).toContain(text);
        expect(r.status?.message).toContain('[ERR_PLUGIN_UNAVAILABLE]; denied by the failure policy (fail closed)');
        // The plugin recovers: the very next review asks it again (a cached denial would last 30 s).
        const home = join(dir, 'plugins', CASES[c].plugin);
        writeFileSync(join(home, 'testverifier.json'), '{}');
        try {
          expect(await review(c)).toMatchObject({ allowed: true });
        } finally {
          writeFileSync(
            join(home, 'testverifier.json'),
            JSON.stringify(c === 'hangs' ? { hang: 'verify-signature' } : { crash: 'verify-signature' }),
          );
        }
      },
    );

    it('without plugins.directory, a signature that names a plugin is denied as before', async () => {
      const r = await review('good', bare);
      expect(r.allowed).toBe(false);
      expect(r.status?.message).toContain('ERR_PLUGIN_REQUIRED');
      expect(r.status?.message).toContain('no plugin directory is configured');
    });
  });
});
