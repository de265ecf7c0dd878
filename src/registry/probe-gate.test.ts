import { describe, expect, it } from 'vitest';
import { ProbeGate } from './probe-gate.js';

describe('ProbeGate', () => {
  it('lets one caller find out while the others wait for it, then lets them all through', async () => {
    const gate = new ProbeGate();
    let known = false;
    const never = new AbortController().signal;
    const first = await gate.enter('reg', () => known, never);
    const order: string[] = [];
    const others = [1, 2, 3].map((n) =>
      gate
        .enter('reg', () => known, never)
        .then((release) => {
          order.push(`waiter ${n}`);
          release();
        }),
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual([]);
    expect(gate.size).toBe(1);
    known = true;
    order.push('first knows');
    first();
    first(); // twice does nothing
    await Promise.all(others);
    expect(order).toEqual(['first knows', 'waiter 1', 'waiter 2', 'waiter 3']);
    expect(gate.size).toBe(0);
  });

  it('passes the question to the next caller when the one finding out learned nothing', async () => {
    const gate = new ProbeGate();
    const never = new AbortController().signal;
    const first = await gate.enter('reg', () => false, never);
    const second = gate.enter('reg', () => false, never);
    const third = gate.enter('reg', () => false, never);
    first(); // e.g. its connection failed
    const next = await second;
    let thirdIn = false;
    void third.then(() => (thirdIn = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(thirdIn).toBe(false); // the second finds out now; the third waits for it
    next();
    await third;
  });

  it('keeps registries apart, and a waiter gives up when its signal aborts', async () => {
    const gate = new ProbeGate();
    const never = new AbortController().signal;
    const a = await gate.enter('a', () => false, never);
    const b = await gate.enter('b', () => false, never); // not held up by a
    const controller = new AbortController();
    const waiting = gate.enter('a', () => false, controller.signal);
    controller.abort(new Error('deadline'));
    await expect(waiting).rejects.toThrow('deadline');
    a();
    b();
    expect(gate.size).toBe(0);
  });
});
