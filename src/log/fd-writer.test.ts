import { describe, expect, it } from 'vitest';
import { type FdOps, FdWriter } from './fd-writer.js';

/** A descriptor whose writes complete when the test says so, with scripted results. */
class FakeFd implements FdOps {
  readonly written: string[] = [];
  readonly pending: { buffer: Buffer; callback: (error: NodeJS.ErrnoException | null, written: number) => void }[] = [];
  write(_fd: number, buffer: Buffer, callback: (error: NodeJS.ErrnoException | null, written: number) => void): void {
    this.pending.push({ buffer, callback });
  }
  /** Completes the oldest write: all of it, `n` bytes of it, or with an error code. */
  complete(result: number | 'all' | string = 'all'): void {
    const w = this.pending.shift();
    if (w === undefined) throw new Error('no write in flight');
    if (typeof result === 'string' && result !== 'all') {
      w.callback(Object.assign(new Error(result), { code: result }), 0);
      return;
    }
    const n = result === 'all' ? w.buffer.length : result;
    this.written.push(w.buffer.subarray(0, n).toString());
    w.callback(null, n);
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('log writer', () => {
  it('writes one batch at a time, in order, and flush() resolves when all is written', async () => {
    const fd = new FakeFd();
    const w = new FdWriter(1, { ops: fd });
    w.write('a\n');
    w.write('b\n');
    w.write('c\n');
    expect(fd.pending).toHaveLength(1); // one write in flight; the rest wait their turn
    let flushed = false;
    const flushing = w.flush().then(() => (flushed = true));
    fd.complete();
    fd.complete();
    await tick();
    expect(flushed).toBe(false);
    fd.complete();
    await flushing;
    expect(fd.written.join('')).toBe('a\nb\nc\n');
  });

  it('writes the rest of a partly written batch before the next one', () => {
    const fd = new FakeFd();
    const w = new FdWriter(1, { ops: fd });
    w.write('hello\n');
    w.write('next\n');
    fd.complete(3);
    fd.complete();
    fd.complete();
    expect(fd.written.join('')).toBe('hello\nnext\n');
  });

  it('retries later when the descriptor would block (EAGAIN), without losing or reordering lines', async () => {
    const fd = new FakeFd();
    const w = new FdWriter(1, { ops: fd, retryMs: 1 });
    w.write('one\n');
    w.write('two\n');
    fd.complete('EAGAIN');
    expect(fd.pending).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 10));
    fd.complete();
    fd.complete();
    expect(fd.written.join('')).toBe('one\ntwo\n');
  });

  it('drops and counts what it cannot write when the reader is gone (EPIPE), and keeps going', async () => {
    const fd = new FakeFd();
    const w = new FdWriter(1, { ops: fd });
    w.write('lost\n');
    w.write('also lost\nand this\n');
    fd.complete('EPIPE');
    expect(w.dropped).toBe(3);
    await w.flush();
    w.write('later\n');
    fd.complete();
    expect(fd.written).toEqual(['later\n']);
  });

  it('bounds what waits: lines beyond maxQueuedBytes are dropped and counted', () => {
    const fd = new FakeFd();
    const w = new FdWriter(1, { ops: fd, maxQueuedBytes: 10 });
    w.write('12345678\n'); // 9 bytes, in flight
    w.write('abc\n'); // would make 13
    expect(w.dropped).toBe(1);
    fd.complete();
    w.write('abc\n');
    fd.complete();
    expect(fd.written.join('')).toBe('12345678\nabc\n');
  });
});
