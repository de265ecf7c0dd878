import { Command, CommanderError } from 'commander';
import { resolveConfigDir } from '../config/paths.js';
import { isPortcullisError, toPortcullisError } from '../errors/index.js';
import { certAddCommand, certGenerateTestCommand, certListCommand } from './commands/cert.js';
import { inspectCommand } from './commands/inspect.js';
import { policyShowCommand, policyValidateCommand } from './commands/policy.js';
import { verifyCommand } from './commands/verify.js';
import { EXIT, type CliIo } from './io.js';

const VERSION = '0.1.0';

/**
 * Runs the CLI with the given arguments (without `node` and the script) and returns the exit
 * status: 0 verified/ok, 1 verification failed, 2 invalid input or configuration.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let status: number = EXIT.ok;
  let wantsJson = false;
  const program = new Command('portcullis')
    .description('Verify Notary Project signatures with notation-compatible trust policies and trust stores')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');

  const configDir = (cmd: Command): string => resolveConfigDir(cmd.optsWithGlobals<{ configDir?: string }>().configDir, io.env);
  program.option('--config-dir <dir>', 'notation configuration directory (default $NOTATION_CONFIG, else ~/.config/notation)');
  const action =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> => {
      status = await fn(...args);
    };

  program
    .command('verify')
    .description('verify the signatures of an artifact against the trust policy')
    .argument('<reference>', 'with --oci-layout: <dir>@<digest> or <dir>:<tag>')
    .option('--oci-layout', 'the reference is an OCI image layout directory')
    .option('--scope <repository>', 'registry/repository whose trust policy statement applies (for layouts)')
    .option('-o, --output <format>', 'text or json', 'text')
    .option('--max-signature-attempts <n>', 'failed signatures tolerated before giving up', '100')
    .option('-m, --user-metadata <key=value>', 'metadata the signature must carry (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .action(
      action(async (reference: string, opts: Record<string, string | boolean | string[]>, cmd: Command) => {
        wantsJson = opts.output === 'json';
        return verifyCommand(reference, { ...opts, configDir: configDir(cmd) }, io);
      }),
    );

  program
    .command('inspect')
    .description('list the signatures of an artifact with their attributes and certificate chains')
    .argument('<reference>', 'with --oci-layout: <dir>@<digest> or <dir>:<tag>')
    .option('--oci-layout', 'the reference is an OCI image layout directory')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(action(async (reference: string, opts: Record<string, string | boolean>) => inspectCommand(reference, opts, io)));

  const policy = program.command('policy').description('trust policy commands');
  policy
    .command('validate')
    .description('validate a trust policy document (default: the one in the configuration directory)')
    .argument('[file]', 'trust policy JSON file')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(action(async (file: string | undefined, opts: { output?: string }, cmd: Command) => policyValidateCommand(file, { ...opts, configDir: configDir(cmd) }, io)));
  policy
    .command('show')
    .description('print the trust policy in force')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(action(async (opts: { output?: string }, cmd: Command) => policyShowCommand({ ...opts, configDir: configDir(cmd) }, io)));

  const cert = program.command('cert').description('trust store and test certificate commands');
  cert
    .command('add')
    .description('add certificates to a trust store')
    .requiredOption('-t, --type <type>', 'ca, signingAuthority or tsa')
    .requiredOption('-s, --store <name>', 'trust store name')
    .argument('<files...>', 'PEM or DER certificate files')
    .action(action(async (files: string[], opts: { type: string; store: string }, cmd: Command) => certAddCommand(files, { ...opts, configDir: configDir(cmd) }, io)));
  cert
    .command('list')
    .description('list trust stores and their certificates')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(action(async (opts: { output?: string }, cmd: Command) => certListCommand({ ...opts, configDir: configDir(cmd) }, io)));
  cert
    .command('generate-test')
    .description('generate a test signing key and self-signed certificate, trusted in ca store NAME')
    .argument('<name>', 'key and trust store name')
    .option('--key-type <type>', 'rsa or ec', 'rsa')
    .option('-b, --bits <n>', 'RSA 2048/3072/4096 (default 3072) or EC 256/384/521 (default 256)')
    .option('--days <n>', 'validity in days', '365')
    .option('--default', 'make it the default signing key')
    .action(action(async (name: string, opts: Record<string, string | boolean>, cmd: Command) => certGenerateTestCommand(name, { ...opts, configDir: configDir(cmd) }, io)));

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
    if (!isPortcullisError(error) && error instanceof Error && error.stack !== undefined && io.env.PORTCULLIS_DEBUG) io.stderr(`${error.stack}\n`);
    return EXIT.invalid;
  }
}
