import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { PortcullisError } from '../errors/index.js';
import type { Descriptor } from '../oci/index.js';
import { parseDigest } from '../util/index.js';

/** Where a blob lives in a layout: `blobs/<algorithm>/<hex>`; throws for a digest that is not one. */
export function blobPath(dir: string, digest: string): string {
  const parsed = parseDigest(digest);
  if (parsed === undefined) throw new PortcullisError('ERR_DIGEST_INVALID', `"${digest}" is not a valid digest`);
  return join(dir, 'blobs', parsed.algorithm, parsed.hex);
}

/**
 * Streams a blob of a layout (layers of any size, for copying): the file must be a regular file
 * of exactly the descriptor's size, and the content is hashed as it streams; the last step
 * throws ERR_DIGEST_MISMATCH when it does not match, so a tampered layout never passes on.
 */
export async function* streamLayoutBlob(dir: string, descriptor: Descriptor): AsyncGenerator<Uint8Array> {
  const path = blobPath(dir, descriptor.digest);
  const algorithm = parseDigest(descriptor.digest)?.algorithm as string;
  let info;
  try {
    info = await lstat(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT')
      throw new PortcullisError('ERR_LAYOUT_NOT_FOUND', `blob ${descriptor.digest} is not in the OCI layout "${dir}"`);
    throw new PortcullisError(
      'ERR_LAYOUT_INVALID',
      `blob ${descriptor.digest} cannot be read: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (!info.isFile())
    throw new PortcullisError('ERR_LAYOUT_INVALID', `blob ${descriptor.digest} is not a regular file`);
  if (info.size !== descriptor.size)
    throw new PortcullisError(
      'ERR_DIGEST_MISMATCH',
      `blob ${descriptor.digest} is ${info.size} bytes, its descriptor says ${descriptor.size}`,
    );
  const hash = createHash(algorithm);
  let total = 0;
  for await (const chunk of createReadStream(path, {
    end: Math.max(0, descriptor.size - 1),
    highWaterMark: 256 * 1024,
  })) {
    const bytes = chunk as Buffer;
    total += bytes.length;
    hash.update(bytes);
    yield new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  }
  if (total !== descriptor.size || `${algorithm}:${hash.digest('hex')}` !== descriptor.digest) {
    throw new PortcullisError('ERR_DIGEST_MISMATCH', `blob ${descriptor.digest} in "${dir}" does not match its digest`);
  }
}
