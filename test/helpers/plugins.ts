import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Descriptor } from '../../src/oci/descriptor.js';
import { MEDIA_TYPE } from '../../src/oci/media-types.js';
import type { RegistryClient, RepositoryRef } from '../../src/registry/index.js';
import { EMPTY_CONFIG, buildSignatureManifest } from '../../src/signing/signature-manifest.js';

/** The test verification plugin (test/fixtures/plugins/notation-testverifier.cjs). */
export const TEST_VERIFIER = fileURLToPath(new URL('../fixtures/plugins/notation-testverifier.cjs', import.meta.url));

/**
 * Installs the test verification plugin as `<pluginsDir>/<name>/notation-<name>` (a regular
 * executable file, as notation installs plugins), with its behaviour file beside it.
 */
export function installTestVerifier(pluginsDir: string, name: string, behaviour: Record<string, string> = {}): string {
  const home = join(pluginsDir, name);
  mkdirSync(home, { recursive: true });
  const path = join(home, `notation-${name}`);
  copyFileSync(TEST_VERIFIER, path);
  chmodSync(path, 0o755);
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
