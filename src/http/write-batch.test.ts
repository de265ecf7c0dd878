import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { WriteBatch } from './write-batch.js';

describe('write batch', () => {
  it('writes nothing while the turn that queued the items runs, then all of them in order', async () => {
    const written: number[] = [];
    const batch = new WriteBatch<number>((n) => written.push(n));
    batch.add(1);
    batch.add(2);
    batch.add(3);
    expect(written).toEqual([]);
    await nextTurn();
    expect(written).toEqual([1, 2, 3]);
  });

  it('writes a full batch at once, without waiting for the turn to end', async () => {
    const written: number[] = [];
    const batch = new WriteBatch<number>((n) => written.push(n), 3);
    batch.add(1);
    batch.add(2);
    expect(written).toEqual([]);
    batch.add(3);
    expect(written).toEqual([1, 2, 3]);
    batch.add(4);
    expect(written).toEqual([1, 2, 3]);
    await nextTurn();
    expect(written).toEqual([1, 2, 3, 4]);
  });

  it('starts a new batch for items queued in a later turn', async () => {
    const written: string[] = [];
    const batch = new WriteBatch<string>((s) => written.push(s));
    batch.add('a');
    await nextTurn();
    batch.add('b');
    expect(written).toEqual(['a']);
    await nextTurn();
    expect(written).toEqual(['a', 'b']);
  });

  it('writes what is queued now on flush, and nothing twice', async () => {
    const written: number[] = [];
    const batch = new WriteBatch<number>((n) => written.push(n));
    batch.add(1);
    batch.flush();
    expect(written).toEqual([1]);
    await nextTurn();
    expect(written).toEqual([1]);
  });

  it('rejects a batch size below one', () => {
    expect(() => new WriteBatch<number>(() => undefined, 0)).toThrow(RangeError);
  });
});
