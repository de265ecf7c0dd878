/** Everything a command touches outside its arguments, injected so tests run commands in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** The clock: read once per command and passed down to the pure core. */
  readonly now: () => Date;
  /** Standard error is a terminal: progress bars are drawn there (oras and docker draw on stderr). */
  readonly isTty: boolean;
  /**
   * The stream progress bars draw on (a terminal: cursor movement, width). Only used when
   * `isTty`; tests pass a fake terminal to see what a user would see.
   */
  readonly progressStream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
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
    isTty: process.stderr.isTTY === true,
    progressStream: process.stderr,
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
