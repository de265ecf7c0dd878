import { CommanderError } from 'commander';
import { isPortcullisError, toPortcullisError, type PortcullisError } from '../errors/index.js';
import { EXIT, type CliIo } from './io.js';
import { buildProgram, type CommandLoader, type CommandModules, type CommandName } from './program.js';

/** Each command module by dynamic import (the compiled CLI may load them from bundles instead: main.ts). */
const importCommand: CommandLoader = async <K extends CommandName>(name: K): Promise<CommandModules[K]> => {
  switch (name) {
    case 'sign':
      return (await import('./commands/sign.js')) as CommandModules[K];
    case 'verify':
      return (await import('./commands/verify.js')) as CommandModules[K];
    case 'inspect':
      return (await import('./commands/inspect.js')) as CommandModules[K];
    case 'list':
      return (await import('./commands/list.js')) as CommandModules[K];
    case 'discover':
      return (await import('./commands/discover.js')) as CommandModules[K];
    case 'copy':
      return (await import('./commands/copy.js')) as CommandModules[K];
    case 'attach':
      return (await import('./commands/attach.js')) as CommandModules[K];
    case 'login':
      return (await import('./commands/login.js')) as CommandModules[K];
    case 'serve':
      return (await import('./commands/serve.js')) as CommandModules[K];
    case 'policy':
      return (await import('./commands/policy.js')) as CommandModules[K];
    case 'cert':
      return (await import('./commands/cert.js')) as CommandModules[K];
    case 'key':
      return (await import('./commands/key.js')) as CommandModules[K];
    case 'import':
      return (await import('./commands/import.js')) as CommandModules[K];
    case 'blob':
      return (await import('./commands/blob.js')) as CommandModules[K];
    case 'audit':
      return (await import('./commands/audit.js')) as CommandModules[K];
    case 'explain':
      return (await import('./commands/explain.js')) as CommandModules[K];
    default:
      throw new Error(`unknown command module ${String(name)}`);
  }
};

export interface RunOptions {
  /** How command modules are loaded (default: dynamic import of src/cli/commands/*). */
  readonly load?: CommandLoader;
}

/**
 * Runs the CLI with the given arguments (without `node` and the script) and returns the exit
 * status: 0 verified/ok, 1 verification failed, 2 invalid input or configuration.
 */
export async function run(argv: readonly string[], io: CliIo, options: RunOptions = {}): Promise<number> {
  let status: number = EXIT.ok;
  let wantsJson = false;
  let debug = false;
  const program = buildProgram(io, {
    load: options.load ?? importCommand,
    run: async (name, body, globals, json) => {
      wantsJson = json && name === 'verify';
      debug = globals.debug;
      if (!globals.verbose) {
        status = await body();
        return;
      }
      // Request tracing is loaded only when asked for.
      const { traceRequests } = await import('./diagnostics.js');
      const stop = traceRequests(io.stderr, { headers: globals.debug });
      try {
        status = await body();
      } finally {
        stop();
      }
    },
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return status;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors with 1, which we map to 2.
      return error.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    }
    const e = toPortcullisError(error, 'ERR_INTERNAL');
    if (wantsJson) {
      io.stdout(`${JSON.stringify({ verified: false, code: e.code, message: e.message, ...e.context }, null, 2)}\n`);
    }
    io.stderr(`error: ${e.message} [${e.code}]\n`);
    const hint = cliHint(e);
    if (hint !== undefined) io.stderr(`hint: ${hint}\n`);
    if (
      !isPortcullisError(error) &&
      error instanceof Error &&
      error.stack !== undefined &&
      (debug || io.env.PORTCULLIS_DEBUG)
    )
      io.stderr(`${error.stack}\n`);
    return EXIT.invalid;
  }
}

/** What to type next, where the CLI knows better than the layer that raised the error (which the webhook shares). */
function cliHint(e: PortcullisError): string | undefined {
  const registry = e.context.subject;
  if (
    e.code === 'ERR_REGISTRY_UNAUTHORIZED' &&
    typeof registry === 'string' &&
    /no credentials are configured|anonymous access was refused/.test(e.message)
  )
    return `log in first: portcullis login ${registry} -u NAME --password-stdin (or give -u/-p)`;
  return undefined;
}
