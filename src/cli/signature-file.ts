import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { DEFAULT_MAX_ENVELOPE_BYTES } from '../envelope/index.js';
import { PortcullisError } from '../errors/index.js';

/** The signature file, at most the envelope cap (4 MiB): a signature is a few KiB. */
export async function readSignature(path: string): Promise<Uint8Array> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO put where the signature was expected must not wait for a writer forever.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    throw new PortcullisError('ERR_INPUT_INVALID', `cannot read signature "${path}": ${(cause as Error).message}`, {
      cause,
    });
  }
  try {
    if (!(await handle.stat()).isFile())
      throw new PortcullisError('ERR_INPUT_INVALID', `cannot read signature "${path}": not a regular file`);
    const buffer = Buffer.alloc(DEFAULT_MAX_ENVELOPE_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > DEFAULT_MAX_ENVELOPE_BYTES)
        throw new PortcullisError(
          'ERR_SIZE_LIMIT',
          `signature "${path}" is larger than ${DEFAULT_MAX_ENVELOPE_BYTES} bytes`,
        );
    }
    return new Uint8Array(buffer.subarray(0, length));
  } finally {
    await handle.close();
  }
}
