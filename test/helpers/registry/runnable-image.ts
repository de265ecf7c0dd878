import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Descriptor } from '../../../src/oci/descriptor.js';
import type { RegistryClient, RepositoryRef } from '../../../src/registry/index.js';
import { MEDIA, blob, digestOf, imageManifest } from './oci-fixtures.js';

/** A file of a runnable image: copied from `source`, written from `content`, or a symlink. */
export interface ImageFile {
  readonly path: string;
  readonly source?: string;
  readonly content?: string;
  readonly symlink?: string;
  readonly mode?: number;
}

export interface RunnableImage {
  readonly files: readonly ImageFile[];
  readonly entrypoint: readonly string[];
  readonly cmd?: readonly string[];
  readonly user?: string;
}

/**
 * Pushes an image a container runtime can run (linux/amd64, one gzip layer, an OCI config with
 * Entrypoint and rootfs diff_ids), made from a few files: the pause binary, or busybox-static
 * for the node scenario's workloads. The layer tar is made by GNU tar with fixed owner and mtime,
 * so the same files give the same digest.
 */
export async function pushRunnableImage(
  client: RegistryClient,
  repo: RepositoryRef,
  tag: string,
  image: RunnableImage,
): Promise<Descriptor> {
  const stage = mkdtempSync(join(tmpdir(), 'portcullis-image-'));
  try {
    for (const f of image.files) {
      const to = join(stage, f.path);
      mkdirSync(dirname(to), { recursive: true });
      if (f.symlink !== undefined) symlinkSync(f.symlink, to);
      else if (f.source !== undefined) copyFileSync(f.source, to);
      else writeFileSync(to, f.content ?? '');
      if (f.symlink === undefined) chmodSync(to, f.mode ?? 0o755);
    }
    const r = spawnSync(
      'tar',
      [
        '--sort=name',
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        '--mtime=@0',
        '--format=gnu',
        '-C',
        stage,
        '-cf',
        '-',
        '.',
      ],
      { maxBuffer: 256 * 1024 * 1024 },
    );
    if (r.status !== 0) throw new Error(`tar failed: ${r.stderr.toString()}`);
    const tar = new Uint8Array(r.stdout);
    const layer = blob(gzipSync(tar, { level: 6 }));
    const config = blob(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {
          Entrypoint: image.entrypoint,
          ...(image.cmd === undefined ? {} : { Cmd: image.cmd }),
          ...(image.user === undefined ? {} : { User: image.user }),
          Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        },
        rootfs: { type: 'layers', diff_ids: [digestOf(tar)] },
      }),
    );
    await client.pushBlob(repo, config.bytes, config.descriptor(MEDIA.imageConfig));
    await client.pushBlob(repo, layer.bytes, layer.descriptor('application/vnd.oci.image.layer.v1.tar+gzip'));
    const m = imageManifest({
      config: config.descriptor(MEDIA.imageConfig),
      layers: [layer.descriptor('application/vnd.oci.image.layer.v1.tar+gzip')],
    });
    return (await client.pushManifest(repo, tag, m.bytes, m.mediaType)).descriptor;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
