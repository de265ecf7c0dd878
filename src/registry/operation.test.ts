import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { abortError, startOperation } from './operation.js';

// An operation's deadline: it aborts the operation's signal when it passes, and it costs nothing
// once the operation has ended — no timer left behind, no listener on the caller's signal, and
// never a reason for the process to stay alive.

afterEach(() => void vi.useRealTimers());

const start = (timeoutMs: number, signal?: AbortSignal) =>
  startOperation({ registry: 'r.example', repository: 'app', what: 'manifest v1', timeoutMs, signal });

describe('startOperation', () => {
  it('aborts the signal with a TimeoutError when the deadline passes (real timers)', async () => {
    const op = start(20);
    expect(op.signal.aborted).toBe(false);
    await new Promise((r) => setTimeout(r, 80));
    expect(op.signal.aborted).toBe(true);
    expect((op.signal.reason as Error).name).toBe('TimeoutError');
    expect(abortError(op).message).toBe(
      'registry r.example, repository app: manifest v1: no answer within the 20 ms deadline',
    );
  });

  it("aborts when the caller's signal aborts, and the error says the caller cancelled", () => {
    const caller = new AbortController();
    const op = start(10_000, caller.signal);
    caller.abort(new Error('review over'));
    expect(op.signal.aborted).toBe(true);
    expect((op.signal.reason as Error).message).toBe('review over');
    expect(abortError(op).message).toContain('cancelled by the caller');
    op.end();
  });

  it('is aborted from the start when the caller has already aborted', () => {
    const op = start(10_000, AbortSignal.abort());
    expect(op.signal.aborted).toBe(true);
    op.end();
  });

  it('keeps one timer per operation, cleared when the operation ends', () => {
    vi.useFakeTimers();
    const ops = Array.from({ length: 100 }, () => start(10_000));
    expect(vi.getTimerCount()).toBe(100);
    for (const op of ops) op.end();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(20_000);
    expect(ops.every((op) => !op.signal.aborted)).toBe(true);
  });

  it('ends when a `using` block exits, also by an exception', () => {
    vi.useFakeTimers();
    let signal: AbortSignal | undefined;
    expect(() => {
      using op = start(5_000);
      signal = op.signal;
      throw new Error('registry said no');
    }).toThrow('registry said no');
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(signal?.aborted).toBe(false);
  });

  it("stops following the caller's signal once ended (a review's signal outlives many operations)", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): number => warnings.push(w);
    process.on('warning', onWarning);
    const caller = new AbortController();
    let aborts = 0;
    const ops = Array.from({ length: 1_000 }, () => {
      const op = start(10_000, caller.signal);
      op.signal.addEventListener('abort', () => aborts++);
      return op;
    });
    for (const op of ops.slice(1)) op.end();
    caller.abort();
    // Only the operation still running heard of it.
    expect(aborts).toBe(1);
    expect(ops[0]?.signal.aborted).toBe(true);
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    // 1,000 listeners at once on a review's signal are expected, not a leak to warn about.
    expect(warnings.map((w) => w.name)).toEqual([]);
  });

  it('does not keep the process alive while an operation is pending', async () => {
    const module = resolve(import.meta.dirname, 'operation.ts');
    const script = `import { startOperation } from ${JSON.stringify(module)};
startOperation({ registry: 'r', what: 'w', timeoutMs: 60_000 });
startOperation({ registry: 'r', what: 'w', timeoutMs: 60_000, signal: new AbortController().signal });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The deadlines are a minute away: a process still running after 15 s is being kept alive.
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    clearTimeout(kill);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  }, 30_000);
});
