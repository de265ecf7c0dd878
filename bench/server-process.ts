import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';

/** A bench/webhook-server.ts child process and its line protocol on stdin/stdout. */
export interface Child {
  readonly process: ChildProcess;
  readonly info: { url: string; ca: string; images: string[]; fresh: string[] };
  /** Registry request counts (`stats`, `reset`; `prof-start`/`prof-stop` answer the same way). */
  ask(command: string): Promise<{ total: number; counts: Record<string, number> }>;
  /** CPU time the server process has used so far, µs. */
  cpu(): Promise<number>;
}

export type Mode = 'portcullis' | 'bare' | 'fake' | 'raw';

export async function startChild(mode: Mode, env: Record<string, string> = {}): Promise<Child> {
  // fd 3: the server's log lines, into a pipe that a process of its own drains, as a container
  // runtime drains a pod's stdout (not the load generator: that would slow the client instead).
  const drain = spawn('cat', [], { stdio: ['pipe', 'ignore', 'inherit'] });
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, 'webhook-server.ts'), mode], {
    stdio: ['pipe', 'pipe', 'inherit', drain.stdin as NonNullable<typeof drain.stdin>],
    env: { ...process.env, ...env },
  });
  child.once('exit', () => drain.kill());
  const iterator = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (command?: string): Promise<unknown> => {
    if (command !== undefined) child.stdin!.write(`${command}\n`);
    return JSON.parse((await iterator.next()).value as string);
  };
  const info = (await next()) as Child['info'];
  return {
    process: child,
    info,
    ask: async (command) => (await next(command)) as { total: number; counts: Record<string, number> },
    cpu: async () => ((await next('cpu')) as { cpuMicros: number }).cpuMicros,
  };
}
