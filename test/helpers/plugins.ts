import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Descriptor } from '../../src/oci/descriptor.js';
import { MEDIA_TYPE } from '../../src/oci/media-types.js';
import type { RegistryClient, RepositoryRef } from '../../src/registry/index.js';
import { EMPTY_CONFIG, buildSignatureManifest } from '../../src/signing/signature-manifest.js';

/** The test verification plugin (test/fixtures/plugins/notation-testverifier.cjs). */
export const TEST_VERIFIER = fileURLToPath(new URL('../fixtures/plugins/notation-testverifier.cjs', import.meta.url));
/** The test signing plugin (test/fixtures/plugins/notation-testsigner.cjs). */
export const TEST_SIGNER = fileURLToPath(new URL('../fixtures/plugins/notation-testsigner.cjs', import.meta.url));
/** What both test plugins require from beside themselves. */
const PLUGIN_IO = fileURLToPath(new URL('../fixtures/plugins/plugin-io.cjs', import.meta.url));

/**
 * Installs a test plugin fixture at `path` (a regular file, as notation installs plugins, with
 * `mode`) and the plumbing it requires beside it; creates the directory. Returns `path`.
 */
export function installPlugin(fixture: string, path: string, mode = 0o755): string {
  mkdirSync(dirname(path), { recursive: true });
  copyFileSync(fixture, path);
  chmodSync(path, mode);
  copyFileSync(PLUGIN_IO, join(dirname(path), 'plugin-io.cjs'));
  return path;
}

/**
 * Installs the test verification plugin as `<pluginsDir>/<name>/notation-<name>`, with its
 * behaviour file beside it.
 */
export function installTestVerifier(pluginsDir: string, name: string, behaviour: Record<string, string> = {}): string {
  const home = join(pluginsDir, name);
  const path = installPlugin(TEST_VERIFIER, join(home, `notation-${name}`));
  writeFileSync(join(home, 'testverifier.json'), JSON.stringify(behaviour));
  return path;
}

/** Pushes an envelope as a Notary signature of `subject` (OCI 1.1 shape; tag schema where the registry needs it). */
export async function pushEnvelope(
  client: RegistryClient,
  repo: RepositoryRef,
  subject: Descriptor,
  signed: { readonly envelope: Uint8Array; readonly mediaType: string },
): Promise<Descriptor> {
  const built = buildSignatureManifest({
    subject,
    envelope: signed.envelope,
    envelopeMediaType: signed.mediaType,
    thumbprints: [],
    signingTime: new Date(),
  });
  await client.pushBlob(repo, Buffer.from(EMPTY_CONFIG.data, 'base64'), EMPTY_CONFIG);
  await client.pushBlob(repo, signed.envelope, built.envelopeDescriptor);
  const pushed = await client.pushManifest(repo, built.descriptor.digest, built.manifest, MEDIA_TYPE.ociManifest);
  if (!pushed.subjectProcessed) await client.addReferrer(repo, subject, built.descriptor);
  return built.descriptor;
}
