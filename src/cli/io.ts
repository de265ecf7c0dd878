/** Everything a command touches outside its arguments, injected so tests run commands in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** The clock: read once per command and passed down to the pure core. */
  readonly now: () => Date;
  readonly isTty: boolean;
  /** All of standard input (for --password-stdin). */
  readonly readStdin: () => Promise<string>;
  /** Resolves when a long-running command (serve) should stop: SIGTERM or SIGINT. */
  readonly untilShutdown: () => Promise<void>;
}

export const EXIT = { ok: 0, failed: 1, invalid: 2 } as const;

export function processIo(): CliIo {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    now: () => new Date(),
    isTty: process.stdout.isTTY === true,
    untilShutdown: () =>
      new Promise<void>((resolve) => {
        process.once('SIGTERM', () => resolve());
        process.once('SIGINT', () => resolve());
      }),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}
