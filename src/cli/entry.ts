import { processIo } from './io.js';
import type { CommandLoader } from './program.js';
import { run } from './run.js';

/** The CLI as the installed command runs it (bundled with commander into dist/cli/bundle/cli.cjs). */
export function runCli(argv: readonly string[], load: CommandLoader): Promise<number> {
  return run(argv, processIo(), { load });
}
