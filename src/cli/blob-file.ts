import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PortcullisError } from '../errors/index.js';
import type { DigestAlgorithm } from '../util/index.js';

/**
 * A file to sign, verify or attach as a blob: its size, and its digest streamed on demand (any
 * size; the bytes are never held in memory). Hashing checks the size again, so a file that changes
 * between the two is an error rather than a descriptor that matches neither version. Errors say
 * `cannot <action> "<path>"`.
 */
export async function fileBlob(
  path: string,
  action = 'read blob',
): Promise<{ size: number; digest(algorithm: DigestAlgorithm): Promise<string> }> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a regular file');
    size = info.size;
  } catch (cause) {
    throw new PortcullisError('ERR_INPUT_INVALID', `cannot ${action} "${path}": ${(cause as Error).message}`, {
      cause,
    });
  }
  const digests = new Map<DigestAlgorithm, Promise<string>>();
  const hash = async (algorithm: DigestAlgorithm): Promise<string> => {
    const h = createHash(algorithm);
    let read = 0;
    try {
      for await (const chunk of createReadStream(path)) {
        read += (chunk as Buffer).length;
        h.update(chunk as Buffer);
      }
    } catch (cause) {
      throw new PortcullisError('ERR_INPUT_INVALID', `cannot ${action} "${path}": ${(cause as Error).message}`, {
        cause,
      });
    }
    if (read !== size) {
      throw new PortcullisError(
        'ERR_INPUT_INVALID',
        `cannot ${action} "${path}": it changed while it was read (${size} bytes, then ${read})`,
      );
    }
    return `${algorithm}:${h.digest('hex')}`;
  };
  return {
    size,
    digest: (algorithm) => {
      let d = digests.get(algorithm);
      if (d === undefined) digests.set(algorithm, (d = hash(algorithm)));
      return d;
    },
  };
}
