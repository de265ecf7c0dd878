import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileBlob } from './blob-file.js';

describe('fileBlob (the file of blob sign/verify and attach)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-blob-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the size and the streamed digest in each algorithm', async () => {
    const path = join(dir, 'a.txt');
    writeFileSync(path, 'hello blob');
    const blob = await fileBlob(path);
    expect(blob.size).toBe(10);
    expect(await blob.digest('sha256')).toBe(`sha256:${createHash('sha256').update('hello blob').digest('hex')}`);
    expect(await blob.digest('sha512')).toBe(`sha512:${createHash('sha512').update('hello blob').digest('hex')}`);
  });

  it('names what it could not do: a directory or a missing file is ERR_INPUT_INVALID', async () => {
    await expect(fileBlob(dir)).rejects.toMatchObject({
      code: 'ERR_INPUT_INVALID',
      message: `cannot read blob "${dir}": not a regular file`,
    });
    await expect(fileBlob(join(dir, 'missing'), 'attach')).rejects.toMatchObject({
      code: 'ERR_INPUT_INVALID',
      message: expect.stringContaining(`cannot attach "${join(dir, 'missing')}"`),
    });
  });

  it('a file that changes size between stat and hashing is an error, not a digest of neither', async () => {
    const path = join(dir, 'grows.txt');
    writeFileSync(path, 'short');
    const blob = await fileBlob(path, 'attach');
    writeFileSync(path, 'much longer now');
    await expect(blob.digest('sha256')).rejects.toMatchObject({
      code: 'ERR_INPUT_INVALID',
      message: expect.stringContaining('changed while it was read (5 bytes, then 15)'),
    });
  });
});
