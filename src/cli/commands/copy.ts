import { OciLayout, OciLayoutWriter, parseLayoutReference, type LayoutReference } from '../../layout/index.js';
import { PortcullisError } from '../../errors/index.js';
import type { Descriptor } from '../../oci/index.js';
import { parseReference } from '../../reference/index.js';
import type { RegistryClient } from '../../registry/index.js';
import {
  GraphCopier,
  LayoutSource,
  LayoutTarget,
  RegistryEndpoint,
  parsePlatform,
  selectPlatform,
  type ContentSource,
  type ContentTarget,
  type CopyReport,
} from '../../transfer/index.js';
import { EXIT, type CliIo } from '../io.js';
import { positiveInteger } from '../options.js';
import { copyProgress, formatBytes } from '../progress.js';
import { openRegistryClient, type RegistryCliOptions } from '../registry-options.js';

export interface CopyCommandOptions extends RegistryCliOptions {
  readonly recursive?: boolean;
  readonly fromOciLayout?: boolean;
  readonly toOciLayout?: boolean;
  readonly platform?: string;
  readonly concurrency?: string;
  readonly output?: string;
}

const MAX_CONCURRENCY = 64;

function summary(r: CopyReport): string {
  const manifests = r.copied.filter((i) => i.kind === 'manifest').length;
  const blobs = r.copied.filter((i) => i.kind === 'blob').length;
  return `${manifests} manifest(s) and ${blobs} blob(s) copied (${formatBytes(r.bytes)} transferred), ${r.mounted.length} mounted, ${r.skipped.length} already present, ${r.referrers.length} referrer(s)`;
}

/** `<dir>[:<tag>|@<digest>]` for a destination layout: a bare directory keeps the source's tag. */
function layoutDestination(text: string): LayoutReference {
  try {
    return parseLayoutReference(text);
  } catch {
    return { dir: text };
  }
}

interface End<T> {
  readonly end: T;
  /** `registry host/repo` or `oci-layout dir`, as oras names the two kinds. */
  readonly shown: string;
  readonly tag?: string | undefined;
  readonly digest?: string | undefined;
}

/**
 * `portcullis copy <source> <destination> [-r]`: an artifact (an index with its platform
 * manifests and blobs, or one platform of it with --platform) and with -r its referrer graph
 * (signatures, SBOMs, their signatures), between registries and OCI image layouts, skipping
 * what the destination has and mounting blobs within one registry. Progress bars on a
 * terminal; a summary line (or with -o json what was copied, skipped and mounted) at the end.
 */
export async function copyCommand(
  source: string,
  destination: string,
  opts: CopyCommandOptions,
  io: CliIo,
): Promise<number> {
  const format = opts.output ?? 'text';
  if (format !== 'text' && format !== 'json')
    throw new PortcullisError('ERR_INPUT_INVALID', `--output must be text or json, got "${format}"`);
  const concurrency = positiveInteger('--concurrency', opts.concurrency, 3);
  if (concurrency > MAX_CONCURRENCY)
    throw new PortcullisError('ERR_INPUT_INVALID', `--concurrency must be at most ${MAX_CONCURRENCY}`);
  const platform = opts.platform === undefined ? undefined : parsePlatform(opts.platform);
  const srcRef = opts.fromOciLayout === true ? parseLayoutReference(source) : parseReference(source);
  const dstRef = opts.toOciLayout === true ? layoutDestination(destination) : parseReference(destination);
  if (
    dstRef.digest !== undefined &&
    dstRef.tag === undefined &&
    srcRef.digest !== dstRef.digest &&
    platform === undefined
  ) {
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `destination digest ${dstRef.digest} differs from the source: a copy keeps the digest`,
    );
  }
  const registries = [srcRef, dstRef].filter((r): r is ReturnType<typeof parseReference> => 'registry' in r);
  const client: RegistryClient | undefined =
    registries.length === 0 ? undefined : await openRegistryClient(opts, registries, io);
  const progress =
    io.isTty && io.progressStream !== undefined && format === 'text' ? copyProgress(io.progressStream) : undefined;
  try {
    let src: End<ContentSource>;
    let root: Descriptor;
    if ('registry' in srcRef) {
      const ep = new RegistryEndpoint(client as RegistryClient, srcRef);
      src = {
        end: ep,
        shown: `[registry] ${srcRef.registry}/${srcRef.repository}`,
        tag: srcRef.tag,
        digest: srcRef.digest,
      };
      root = await (client as RegistryClient).resolve(srcRef);
    } else {
      const layout = await OciLayout.open(srcRef.dir);
      src = {
        end: new LayoutSource(layout),
        shown: `[oci-layout] ${srcRef.dir}`,
        tag: srcRef.tag,
        digest: srcRef.digest,
      };
      root = await layout.resolve(srcRef);
      root = { mediaType: root.mediaType, digest: root.digest, size: root.size };
    }
    if (platform !== undefined) {
      root = await selectPlatform(root, platform, {
        manifest: (d) => src.end.fetchManifest(d),
        config: async (d) => {
          const chunks: Uint8Array[] = [];
          let total = 0;
          for await (const chunk of src.end.openBlob(d)) {
            total += chunk.length;
            if (total > 4 * 1024 * 1024)
              throw new PortcullisError('ERR_SIZE_LIMIT', `image config ${d.digest} is over 4 MiB`);
            chunks.push(chunk);
          }
          return Buffer.concat(chunks);
        },
      });
    }
    let dst: End<ContentTarget>;
    if ('registry' in dstRef) {
      dst = {
        end: new RegistryEndpoint(client as RegistryClient, dstRef),
        shown: `[registry] ${dstRef.registry}/${dstRef.repository}`,
        tag: dstRef.tag,
      };
    } else {
      dst = {
        end: new LayoutTarget(await OciLayoutWriter.open(dstRef.dir)),
        shown: `[oci-layout] ${dstRef.dir}`,
        tag: dstRef.tag,
      };
    }
    const tag = dst.tag ?? src.tag;
    const copier = new GraphCopier(src.end, dst.end, {
      referrers: opts.recursive === true,
      concurrency,
      ...(progress === undefined ? {} : { events: progress.events }),
    });
    const report = await copier.copy(root, tag);
    progress?.stop();
    const to = `${dst.shown}${tag === undefined ? '' : `:${tag}`}@${root.digest}`;
    if (format === 'json') {
      io.stdout(
        `${JSON.stringify({ source, destination: to.replace(/^\[[a-z-]+\] /, ''), digest: root.digest, mediaType: root.mediaType, size: root.size, ...report }, null, 2)}\n`,
      );
    } else {
      io.stdout(
        `Copied ${src.shown}${src.tag === undefined ? '' : `:${src.tag}`} => ${to}\nDigest: ${root.digest}\n${summary(report)}\n`,
      );
    }
    return EXIT.ok;
  } finally {
    progress?.stop();
    await client?.close();
  }
}
