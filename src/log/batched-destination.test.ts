import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchedDestination } from './batched-destination.js';

function sink() {
  const writes: string[] = [];
  return {
    writes,
    write: (chunk: string) => writes.push(chunk),
    flush: vi.fn((callback?: () => void) => callback?.()),
  };
}

describe('batched log destination', () => {
  afterEach(() => vi.useRealTimers());

  it('hands lines over in one write once the batch is full', () => {
    const s = sink();
    const d = new BatchedDestination(s, { maxBatchBytes: 10, flushIntervalMs: 1000 });
    d.write('abcd\n');
    expect(s.writes).toEqual([]);
    d.write('efgh\n');
    expect(s.writes).toEqual(['abcd\nefgh\n']);
  });

  it('hands a partial batch over after the interval, so a quiet webhook still logs promptly', () => {
    vi.useFakeTimers();
    const s = sink();
    const d = new BatchedDestination(s, { maxBatchBytes: 1_000_000, flushIntervalMs: 50 });
    d.write('one\n');
    vi.advanceTimersByTime(49);
    expect(s.writes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(s.writes).toEqual(['one\n']);
    d.write('two\n');
    vi.advanceTimersByTime(50);
    expect(s.writes).toEqual(['one\n', 'two\n']);
  });

  it('keeps the order of lines across batches', () => {
    const s = sink();
    const d = new BatchedDestination(s, { maxBatchBytes: 8 });
    for (let i = 0; i < 20; i++) d.write(`${i}\n`);
    d.flush();
    expect(s.writes.join('')).toBe(Array.from({ length: 20 }, (_, i) => `${i}\n`).join(''));
  });

  it('flush hands over what is gathered at once and asks the sink to write it out', () => {
    const s = sink();
    const d = new BatchedDestination(s);
    d.write('last words\n');
    d.flush();
    expect(s.writes).toEqual(['last words\n']);
    expect(s.flush).toHaveBeenCalledOnce();
  });

  it('flush(callback) hands over and calls back also when the sink has no flush', async () => {
    const writes: string[] = [];
    const d = new BatchedDestination({ write: (c: string) => writes.push(c) });
    d.write('x\n');
    await new Promise<void>((resolve, reject) => d.flush((error) => (error ? reject(error) : resolve())));
    expect(writes).toEqual(['x\n']);
  });

  it('rejects a batch size of zero', () => {
    expect(() => new BatchedDestination(sink(), { maxBatchBytes: 0 })).toThrow(RangeError);
  });
});
