import { readFile } from 'node:fs/promises';
import { findSigningKey, readSigningKeys } from '../../notation-config/index.js';
import { PortcullisError } from '../../errors/index.js';
import type { SignRequest } from '../../envelope/index.js';
import { MEDIA_TYPE, type Descriptor } from '../../oci/index.js';
import { OciLayout, OciLayoutWriter, parseLayoutReference } from '../../layout/index.js';
import { LayoutTarget, pushReferrerArtifact } from '../../transfer/index.js';
import { parseReference } from '../../reference/index.js';
import {
  parseExpiryDuration,
  buildSignatureManifest,
  EMPTY_CONFIG,
  type BuiltSignatureManifest,
  PluginSigner,
  signerForKey,
  type SignResult,
  type Signer,
  TimestampClient,
} from '../../signing/index.js';
import { parseCertificateFile } from '../../x509/index.js';
import { EXIT, type CliIo } from '../io.js';
import { outputFormat, type OutputFormat } from '../options.js';
import { parsePairs } from '../pairs.js';
import { openRegistryClient, type RegistryCliOptions } from '../registry-options.js';

export interface SignCommandOptions extends RegistryCliOptions {
  readonly configDir: string;
  readonly key?: string;
  readonly signatureFormat?: string;
  readonly expiry?: string;
  readonly timestampUrl?: string;
  readonly timestampRootCert?: string;
  readonly plugin?: string;
  readonly id?: string;
  readonly pluginConfig?: readonly string[];
  readonly userMetadata?: readonly string[];
  readonly output?: string;
  readonly ociLayout?: boolean;
}

const VERSION = '0.1.0';

export async function timestampClient(opts: SignCommandOptions): Promise<TimestampClient | undefined> {
  if (opts.timestampUrl === undefined && opts.timestampRootCert === undefined) return undefined;
  if (opts.timestampUrl === undefined || opts.timestampRootCert === undefined) {
    throw new PortcullisError('ERR_INPUT_INVALID', '--timestamp-url and --timestamp-root-cert go together');
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(opts.timestampRootCert));
  } catch (cause) {
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `cannot read --timestamp-root-cert "${opts.timestampRootCert}": ${(cause as Error).message}`,
      { cause },
    );
  }
  return new TimestampClient({ url: opts.timestampUrl, tsaRoots: parseCertificateFile(bytes) });
}

export async function chooseSigner(opts: SignCommandOptions): Promise<Signer> {
  const tsa = await timestampClient(opts);
  const pluginConfig = parsePairs('--plugin-config', opts.pluginConfig);
  if (opts.plugin !== undefined || opts.id !== undefined) {
    if (opts.plugin === undefined || opts.id === undefined)
      throw new PortcullisError('ERR_INPUT_INVALID', '--plugin and --id go together');
    if (opts.key !== undefined)
      throw new PortcullisError('ERR_INPUT_INVALID', '--key cannot be combined with --plugin');
    return new PluginSigner({
      configDir: opts.configDir,
      pluginName: opts.plugin,
      keyId: opts.id,
      ...(pluginConfig === undefined ? {} : { pluginConfig }),
      ...(tsa === undefined ? {} : { timestampClient: tsa }),
    });
  }
  const entry = findSigningKey(await readSigningKeys(opts.configDir), opts.key, opts.configDir);
  return signerForKey(opts.configDir, entry, {
    ...(tsa === undefined ? {} : { timestampClient: tsa }),
    ...(pluginConfig === undefined ? {} : { pluginConfig }),
  });
}

/**
 * `portcullis sign <reference>`: resolves the reference to a digest (a tag is signed by its
 * digest), signs a Notary payload for it, and pushes the envelope and its signature manifest
 * (OCI 1.1 shape, subject = the artifact). Where the registry does not index the subject
 * itself, the referrers tag-schema index is updated, as notation does.
 */
export async function signCommand(reference: string, opts: SignCommandOptions, io: CliIo): Promise<number> {
  const format = outputFormat(opts.output);
  const envelopeFormat = opts.signatureFormat ?? 'jws';
  if (envelopeFormat !== 'jws' && envelopeFormat !== 'cose') {
    throw new PortcullisError('ERR_INPUT_INVALID', `--signature-format must be jws or cose, got "${envelopeFormat}"`);
  }
  const expiryMs = opts.expiry === undefined ? undefined : parseExpiryDuration(opts.expiry);
  const metadata = parsePairs('--user-metadata', opts.userMetadata);
  const signer = await chooseSigner(opts);

  if (opts.ociLayout === true) return signLayout(reference, { format, envelopeFormat, expiryMs, metadata, signer }, io);
  const ref = parseReference(reference);
  const repo = { registry: ref.registry, repository: ref.repository };
  const client = await openRegistryClient(opts, [ref], io);
  try {
    const artifact = await client.resolve(ref);
    const { signed, built } = await signArtifact(artifact, { envelopeFormat, expiryMs, metadata, signer }, io);
    await client.pushBlob(repo, Buffer.from(EMPTY_CONFIG.data, 'base64'), EMPTY_CONFIG);
    await client.pushBlob(repo, signed.envelope, built.envelopeDescriptor);
    const pushed = await client.pushManifest(repo, built.descriptor.digest, built.manifest, MEDIA_TYPE.ociManifest);
    if (!pushed.subjectProcessed) await client.addReferrer(repo, artifact, built.descriptor);
    if (ref.digest === undefined) {
      io.stderr(
        `warning: ${reference} was resolved to ${artifact.digest}: the signature is for the digest, not the tag\n`,
      );
    }
    report(`${ref.registry}/${ref.repository}@${artifact.digest}`, artifact, signed, built, format, io);
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

interface SignInputs {
  readonly envelopeFormat: 'jws' | 'cose';
  readonly expiryMs: number | undefined;
  readonly metadata: Record<string, string> | undefined;
  readonly signer: Signer;
}

/** Signs a Notary payload for the artifact and builds its signature manifest (nothing is pushed). */
async function signArtifact(
  artifact: Descriptor,
  inputs: SignInputs,
  io: CliIo,
): Promise<{ signed: SignResult; built: BuiltSignatureManifest }> {
  const signingTime = io.now();
  const { metadata, expiryMs } = inputs;
  const target = {
    mediaType: artifact.mediaType,
    digest: artifact.digest,
    size: artifact.size,
    ...(metadata === undefined ? {} : { annotations: metadata }),
  };
  const request: SignRequest = {
    payload: new TextEncoder().encode(JSON.stringify({ targetArtifact: target })),
    signingTime,
    signingAgent: `portcullis/${VERSION}`,
    ...(expiryMs === undefined ? {} : { expiry: new Date(signingTime.getTime() + expiryMs) }),
  };
  const signed = await inputs.signer.sign(request, inputs.envelopeFormat);
  const built = buildSignatureManifest({
    subject: artifact,
    envelope: signed.envelope,
    envelopeMediaType: signed.mediaType,
    thumbprints: signed.chain.map((c) => c.sha256),
    signingTime,
    ...(signed.annotations === undefined ? {} : { annotations: signed.annotations }),
  });
  return { signed, built };
}

function report(
  signedRef: string,
  artifact: Descriptor,
  signed: SignResult,
  built: BuiltSignatureManifest,
  format: OutputFormat,
  io: CliIo,
): void {
  if (format === 'json') {
    io.stdout(
      `${JSON.stringify({ reference: signedRef, digest: artifact.digest, signature: built.descriptor.digest, mediaType: signed.mediaType, signer: signed.chain[0]?.subject ?? null }, null, 2)}\n`,
    );
  } else {
    io.stdout(
      `Successfully signed ${signedRef}\n  signature ${built.descriptor.digest} (${signed.mediaType}) by ${signed.chain[0]?.subject ?? '?'}\n`,
    );
  }
}

/**
 * `sign --oci-layout <dir>:<tag>|<dir>@<digest>`: the signature manifest and envelope are written
 * into the layout and listed in its index.json, where verify, inspect, list and copy find them
 * by their subject (as notation's layout signing does).
 */
async function signLayout(
  reference: string,
  inputs: SignInputs & { format: OutputFormat },
  io: CliIo,
): Promise<number> {
  const ref = parseLayoutReference(reference);
  const found = await (await OciLayout.open(ref.dir)).resolve(ref);
  const artifact: Descriptor = { mediaType: found.mediaType, digest: found.digest, size: found.size };
  const { signed, built } = await signArtifact(artifact, inputs, io);
  await pushReferrerArtifact(new LayoutTarget(await OciLayoutWriter.open(ref.dir)), {
    blobs: [
      { descriptor: EMPTY_CONFIG, bytes: Buffer.from(EMPTY_CONFIG.data, 'base64') },
      { descriptor: built.envelopeDescriptor, bytes: signed.envelope },
    ],
    manifest: { descriptor: built.descriptor, bytes: built.manifest },
    subject: artifact,
  });
  if (ref.digest === undefined)
    io.stderr(
      `warning: ${reference} was resolved to ${artifact.digest}: the signature is for the digest, not the tag\n`,
    );
  report(`${ref.dir}@${artifact.digest}`, artifact, signed, built, inputs.format, io);
  return EXIT.ok;
}
