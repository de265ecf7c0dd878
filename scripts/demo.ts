/**
 * `make demo`: the webhook on this machine with the example policies and a generated development
 * certificate. Starts a local OCI registry on 127.0.0.1 holding the example image signed by
 * notation (examples/net-monitor-layout) and an unsigned image, starts `portcullis serve`, and
 * sends the API server's request for two pods in the `secured` namespace: one allowed, one denied.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { DEFAULT_SERVE_CONFIG } from '../src/config/serve-config.js';
import { admissionReview, pod } from '../src/http/testing/reviews.js';
import { RegistryClient } from '../src/registry/index.js';
import { startWebhook } from '../src/cli/serve.js';
import { ReferrersRegistry } from '../test/helpers/registry/referrers-registry.js';
import { pushImage, pushLayout } from '../test/helpers/registry/seed.js';

const root = resolve(import.meta.dirname, '..');
const registry = await ReferrersRegistry.start();
const client = new RegistryClient();
await pushLayout(
  client,
  { registry: registry.host, repository: 'net-monitor' },
  join(root, 'examples/net-monitor-layout'),
);
await pushImage(client, { registry: registry.host, repository: 'nginx' }, 'latest');
await client.close();
console.log(`registry on ${registry.url}: net-monitor:v1 (signed by the example signer), nginx:latest (unsigned)`);

const webhook = await startWebhook({
  policies: join(root, 'examples/policies'),
  port: 0,
  host: '127.0.0.1',
  devCertDir: join(root, '.portcullis-dev-cert'),
  config: {
    ...DEFAULT_SERVE_CONFIG,
    webhook: { ...DEFAULT_SERVE_CONFIG.webhook, shutdownDelaySeconds: 0 },
    verification: { ...DEFAULT_SERVE_CONFIG.verification, revocation: 'offline' },
    logging: { level: 'warn' },
  },
});
console.log(`portcullis serve --policies examples/policies  →  ${webhook.url} (development CA: ${webhook.devCaFile})`);
const agent = new Agent({ connect: { ca: readFileSync(webhook.devCaFile as string, 'utf8') } });

for (const [name, image] of [
  ['net-monitor', `${registry.host}/net-monitor:v1`],
  ['nginx', `${registry.host}/nginx:latest`],
] as const) {
  const res = await request(`${webhook.url}/validate?timeout=10s`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(
      admissionReview(pod({ containers: [[name, image]] }, 'secured'), { namespace: 'secured', uid: `demo-${name}` }),
    ),
  });
  const { response } = (await res.body.json()) as {
    response: { allowed: boolean; status?: { message: string }; warnings?: string[] };
  };
  console.log(`\nPOST /validate  pod in namespace "secured" with image ${image}`);
  console.log(response.allowed ? '  → allowed' : `  → denied (403): ${response.status?.message ?? ''}`);
  for (const w of response.warnings ?? []) console.log(`  warning: ${w}`);
}

await agent.close();
await webhook.stop();
await registry.stop();
