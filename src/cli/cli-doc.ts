import type { Command } from 'commander';
import type { CliIo } from './io.js';
import { buildProgram } from './program.js';

/** Where the generated part of docs/cli.md starts; everything above it is written by hand. */
export const GENERATED_MARKER =
  "<!-- Generated from the commands' own --help by `npm run docs:cli`; a test keeps it equal. Edit above this line. -->";
const HELP_WIDTH = 100;

function walk(cmd: Command, path: string[], out: { path: string[]; cmd: Command }[]): void {
  for (const sub of cmd.commands) {
    const next = [...path, sub.name()];
    out.push({ path: next, cmd: sub });
    walk(sub, next, out);
  }
}

/** Every command with the exact text of its `--help`, at a fixed width. */
export function commandHelps(): { path: string[]; help: string }[] {
  const io: CliIo = {
    stdout: () => undefined,
    stderr: () => undefined,
    env: {},
    now: () => new Date(0),
    isTty: false,
    readStdin: async () => '',
    untilShutdown: async () => undefined,
  };
  const program = buildProgram(
    io,
    {
      load: async () => {
        throw new Error('not run');
      },
      run: async () => undefined,
    },
    HELP_WIDTH,
  );
  const all: { path: string[]; cmd: Command }[] = [{ path: [], cmd: program }];
  walk(program, [], all);
  return all.map(({ path, cmd }) => ({ path, help: cmd.helpInformation() }));
}

/** The reference part of docs/cli.md. */
export function renderCliReference(): string {
  const sections = commandHelps().map(
    ({ path, help }) => `### portcullis${path.map((p) => ` ${p}`).join('')}\n\n\`\`\`text\n${help.trimEnd()}\n\`\`\`\n`,
  );
  return `${GENERATED_MARKER}\n\n## Reference\n\n${sections.join('\n')}`;
}

/** docs/cli.md with its generated part replaced. */
export function renderCliDoc(current: string): string {
  const at = current.indexOf(GENERATED_MARKER);
  const head = at < 0 ? current.trimEnd() + '\n\n' : current.slice(0, at);
  return head + renderCliReference();
}
