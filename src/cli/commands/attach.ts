import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { OciLayout, OciLayoutWriter, parseLayoutReference } from '../../layout/index.js';
import { PortcullisError } from '../../errors/index.js';
import { type Descriptor, MEDIA_TYPE } from '../../oci/index.js';
import { parseReference } from '../../reference/index.js';
import { EMPTY_CONFIG } from '../../signing/index.js';
import { LayoutTarget, RegistryEndpoint, pushReferrerArtifact, type ContentTarget } from '../../transfer/index.js';
import { digestOf } from '../../util/index.js';
import { EXIT, type CliIo } from '../io.js';
import { parsePairs } from '../pairs.js';
import { fileBlob } from '../blob-file.js';
import { openRegistryClient, type RegistryCliOptions } from '../registry-options.js';

export interface AttachCommandOptions extends RegistryCliOptions {
  readonly artifactType?: string;
  readonly annotation?: readonly string[];
  readonly ociLayout?: boolean;
  readonly output?: string;
}

/** oras's default layer media type for a file given without one. */
const DEFAULT_FILE_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar';
const TITLE = 'org.opencontainers.image.title';
const MEDIA_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** `file` or `file:media/type` (the media type is taken only when it is one, so `c:\x` style names stay whole). */
function fileArgument(arg: string): { path: string; mediaType: string } {
  const colon = arg.lastIndexOf(':');
  if (colon > 0 && MEDIA_TYPE_RE.test(arg.slice(colon + 1)))
    return { path: arg.slice(0, colon), mediaType: arg.slice(colon + 1) };
  return { path: arg, mediaType: DEFAULT_FILE_MEDIA_TYPE };
}

async function describeFile(path: string, mediaType: string): Promise<Descriptor> {
  const blob = await fileBlob(path, 'attach');
  return { mediaType, digest: await blob.digest('sha256'), size: blob.size, annotations: { [TITLE]: basename(path) } };
}

async function* fileContent(path: string): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(path)) yield chunk as Buffer;
}

/**
 * `portcullis attach --artifact-type TYPE SUBJECT FILE…`: a new artifact (empty config, one
 * layer per file titled by its name, the annotations given) whose subject is SUBJECT, pushed
 * next to it — in a registry, or with --oci-layout into the layout — as oras attach does.
 */
export async function attachCommand(
  subject: string,
  files: readonly string[],
  opts: AttachCommandOptions,
  io: CliIo,
): Promise<number> {
  const format = opts.output ?? 'text';
  if (format !== 'text' && format !== 'json' && format !== 'digest')
    throw new PortcullisError('ERR_INPUT_INVALID', `--output must be text, json or digest, got "${format}"`);
  const artifactType = opts.artifactType ?? '';
  if (!MEDIA_TYPE_RE.test(artifactType))
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `--artifact-type "${artifactType}" is not a media type (type/subtype)`,
    );
  if (files.length === 0) throw new PortcullisError('ERR_INPUT_INVALID', 'attach needs at least one file');
  const annotations = parsePairs('--annotation', opts.annotation) ?? {};
  const inputs = files.map(fileArgument);
  const layers = await Promise.all(inputs.map((f) => describeFile(f.path, f.mediaType)));

  let target: ContentTarget;
  let subjectDescriptor: Descriptor;
  let shown: string;
  let close = async (): Promise<void> => undefined;
  if (opts.ociLayout === true) {
    const ref = parseLayoutReference(subject);
    const found = await (await OciLayout.open(ref.dir)).resolve(ref);
    subjectDescriptor = { mediaType: found.mediaType, digest: found.digest, size: found.size };
    target = new LayoutTarget(await OciLayoutWriter.open(ref.dir));
    shown = `[oci-layout] ${ref.dir}`;
  } else {
    const ref = parseReference(subject);
    const client = await openRegistryClient(opts, [ref], io);
    close = () => client.close();
    try {
      subjectDescriptor = await client.resolve(ref);
    } catch (error) {
      await close();
      throw error;
    }
    target = new RegistryEndpoint(client, ref);
    shown = `[registry] ${ref.registry}/${ref.repository}`;
  }
  try {
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociManifest,
      artifactType,
      config: EMPTY_CONFIG,
      layers,
      subject: {
        mediaType: subjectDescriptor.mediaType,
        digest: subjectDescriptor.digest,
        size: subjectDescriptor.size,
      },
      annotations: {
        'org.opencontainers.image.created': io
          .now()
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z'),
        ...annotations,
      },
    };
    const bytes = new TextEncoder().encode(JSON.stringify(manifest));
    const descriptor: Descriptor = {
      mediaType: MEDIA_TYPE.ociManifest,
      digest: digestOf(bytes),
      size: bytes.length,
      artifactType,
      annotations: manifest.annotations,
    };
    for (const [i, layer] of layers.entries()) {
      if (!(await target.hasBlob(layer)))
        await target.pushBlob(layer, fileContent(inputs[i]?.path as string), () => undefined);
    }
    await pushReferrerArtifact(target, {
      blobs: [{ descriptor: EMPTY_CONFIG, bytes: Buffer.from(EMPTY_CONFIG.data, 'base64') }],
      manifest: { descriptor, bytes },
      subject: subjectDescriptor,
    });
    const reference = `${shown.replace(/^\[[a-z-]+\] /, '')}@${descriptor.digest}`;
    if (format === 'digest') io.stdout(`${descriptor.digest}\n`);
    else if (format === 'json')
      io.stdout(
        `${JSON.stringify({ reference, digest: descriptor.digest, mediaType: descriptor.mediaType, size: descriptor.size, artifactType, subject: manifest.subject, annotations: manifest.annotations, layers }, null, 2)}\n`,
      );
    else io.stdout(`Attached to ${shown}@${subjectDescriptor.digest}\nDigest: ${descriptor.digest}\n`);
    return EXIT.ok;
  } finally {
    await close();
  }
}
