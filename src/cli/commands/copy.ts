import { PortcullisError } from '../../errors/index.js';
import { parseReference } from '../../reference/index.js';
import { GraphCopier, type CopyStats } from '../copy-graph.js';
import { EXIT, type CliIo } from '../io.js';
import { openRegistryClient, type RegistryCliOptions } from '../registry-options.js';

export interface CopyCommandOptions extends RegistryCliOptions {
  readonly recursive?: boolean;
}

function summary(s: Readonly<CopyStats>): string {
  const mib = (s.bytes / 1048576).toFixed(1);
  return `${s.manifests} manifest(s) and ${s.blobs} blob(s) copied (${mib} MiB transferred, ${s.mounted} mounted), ${s.skipped} already present, ${s.referrers} referrer(s)`;
}

/**
 * `portcullis copy <source> <destination> [-r]`: the image (index, platform manifests, blobs)
 * and with -r its referrer graph (signatures, SBOMs, their signatures), skipping what the
 * destination has. A live progress line on a terminal, one summary line otherwise.
 */
export async function copyCommand(source: string, destination: string, opts: CopyCommandOptions, io: CliIo): Promise<number> {
  const src = parseReference(source);
  const dst = parseReference(destination);
  if (dst.digest !== undefined && dst.tag === undefined && src.digest !== dst.digest) {
    throw new PortcullisError('ERR_INPUT_INVALID', `destination digest ${dst.digest} differs from the source: a copy keeps the digest`);
  }
  const client = await openRegistryClient(opts, [src, dst], io);
  try {
    const root = await client.resolve(src);
    const copier = new GraphCopier(
      { client, repo: { registry: src.registry, repository: src.repository } },
      { client, repo: { registry: dst.registry, repository: dst.repository } },
      {
        referrers: opts.recursive === true,
        blobTimeoutMs: 10 * 60_000,
        ...(io.isTty ? { onProgress: (s: Readonly<CopyStats>) => io.stderr(`\r${summary(s)}`) } : {}),
      },
    );
    const tag = dst.tag ?? src.tag;
    await copier.copy(root, tag);
    if (io.isTty) io.stderr('\n');
    io.stdout(`Copied ${source} to ${dst.registry}/${dst.repository}${tag === undefined ? '' : `:${tag}`}@${root.digest}: ${summary(copier.stats)}\n`);
    return EXIT.ok;
  } finally {
    await client.close();
  }
}
