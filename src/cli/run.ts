import { Command, CommanderError } from 'commander';
import { resolveConfigDir } from '../config/paths.js';
import { isPortcullisError, toPortcullisError } from '../errors/index.js';
import { certAddCommand, certGenerateTestCommand, certListCommand } from './commands/cert.js';
import { inspectCommand } from './commands/inspect.js';
import { policyShowCommand, policyValidateCommand } from './commands/policy.js';
import { verifyCommand } from './commands/verify.js';
import { signCommand } from './commands/sign.js';
import { discoverCommand } from './commands/discover.js';
import { copyCommand } from './commands/copy.js';
import { loginCommand } from './commands/login.js';
import { serveCommand } from './commands/serve.js';
import { collect } from './pairs.js';
import { addRegistryOptions } from './registry-options.js';
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

  addRegistryOptions(
    program
      .command('sign')
      .description('sign an artifact in a registry (a tag is signed by its digest) and push the signature')
      .argument('<reference>', 'registry/repository:tag or @digest')
      .option('-k, --key <name>', 'signing key from signingkeys.json (default: the default key)')
      .option('--signature-format <format>', 'jws or cose', 'jws')
      .option('-e, --expiry <duration>', 'signature expiry, e.g. 24h, 30m, 7d')
      .option('--timestamp-url <url>', 'RFC 3161 timestamp authority URL')
      .option('--timestamp-root-cert <file>', 'root certificate of the timestamp authority (PEM or DER)')
      .option('--plugin <name>', 'sign with the notation plugin notation-<name>')
      .option('--id <keyId>', 'key id for the plugin')
      .option('--plugin-config <key=value>', 'plugin configuration (repeatable)', collect)
      .option('-m, --user-metadata <key=value>', 'annotation added to the signed payload (repeatable)', collect)
      .option('-o, --output <format>', 'text or json', 'text'),
  ).action(action(async (reference: string, opts: Record<string, never>, cmd: Command) => signCommand(reference, { ...opts, configDir: configDir(cmd) }, io)));

  addRegistryOptions(
    program
    .command('verify')
    .description('verify the signatures of an artifact against the trust policy')
    .argument('<reference>', 'registry/repository:tag or @digest; with --oci-layout: <dir>@<digest> or <dir>:<tag>')
    .option('--oci-layout', 'the reference is an OCI image layout directory')
    .option('--scope <repository>', 'registry/repository whose trust policy statement applies (default: the reference\'s; required for a layout to match a non-* statement)')
    .option('-o, --output <format>', 'text or json', 'text')
    .option('--max-signature-attempts <n>', 'failed signatures tolerated before giving up', '100')
    .option('-m, --user-metadata <key=value>', 'metadata the signature must carry (repeatable)', collect)
    .option('--revocation <mode>', 'online (OCSP, then CRL, over the network) or offline (no fetches: revokable certificates are "unknown")', 'online'),
  ).action(
      action(async (reference: string, opts: Record<string, string | boolean | string[]>, cmd: Command) => {
        wantsJson = opts.output === 'json';
        return verifyCommand(reference, { ...opts, configDir: configDir(cmd) }, io);
      }),
    );

  addRegistryOptions(
    program
      .command('inspect')
      .description('list the signatures of an artifact with their attributes and certificate chains')
      .argument('<reference>', 'registry reference; with --oci-layout: <dir>@<digest> or <dir>:<tag>')
      .option('--oci-layout', 'the reference is an OCI image layout directory')
      .option('-o, --output <format>', 'text or json', 'text'),
  ).action(action(async (reference: string, opts: Record<string, string | boolean>) => inspectCommand(reference, opts, io)));

  addRegistryOptions(
    program
      .command('discover')
      .description('print the referrer graph of an artifact (signatures, SBOMs, their signatures)')
      .argument('<reference>', 'registry reference; with --oci-layout: <dir>@<digest> or <dir>:<tag>')
      .option('--oci-layout', 'the reference is an OCI image layout directory')
      .option('--artifact-type <type>', 'only referrers of this type at the first level')
      .option('--depth <n>', 'levels to follow (1-8)')
      .option('-o, --output <format>', 'tree or json', 'tree'),
  ).action(action(async (reference: string, opts: Record<string, string | boolean>) => discoverCommand(reference, opts, io)));

  addRegistryOptions(
    program
      .command('copy')
      .description('copy an image (and with -r its referrer graph) to another repository or registry')
      .argument('<source>', 'source reference')
      .argument('<destination>', 'destination reference (tag optional: the source tag is kept)')
      .option('-r, --recursive', 'copy the referrer graph too (signatures, SBOMs and their signatures)'),
  ).action(action(async (source: string, destination: string, opts: Record<string, string | boolean>) => copyCommand(source, destination, opts, io)));

  program
    .command('serve')
    .description('run the admission webhook and Gatekeeper provider over HTTPS (until SIGTERM)')
    .option('--policies <dir>', 'TrustPolicy/ClusterTrustPolicy/TrustStore/ClusterTrustStore manifests (reloaded on change)')
    .option('--kubernetes', 'read the policy resources from the Kubernetes API (in-cluster service account)')
    .option('--kubeconfig <file>', 'read the policy resources from the Kubernetes API with this kubeconfig')
    .option('--port <port>', 'HTTPS port', '8443')
    .option('--host <address>', 'listen address', '0.0.0.0')
    .option('--tls-cert <file>', 'serving certificate (PEM; reloaded on change)')
    .option('--tls-key <file>', 'serving key (PEM)')
    .option('--dev-cert-dir <dir>', 'where a development CA and certificate are made when no --tls-cert is given', '.portcullis-dev-cert')
    .option('--config <file>', 'configuration YAML (docs/configuration.md)')
    .action(action(async (opts: Record<string, string | boolean>) => serveCommand(opts, io)));

  program
    .command('login')
    .description('store registry credentials in the Docker config ($DOCKER_CONFIG/config.json or ~/.docker/config.json)')
    .argument('<registry>', 'registry host[:port]')
    .option('-u, --username <name>', 'username')
    .option('-p, --password <password>', 'password or token')
    .option('--password-stdin', 'read the password from standard input')
    .action(action(async (registry: string, opts: Record<string, string | boolean>) => loginCommand(registry, opts, io)));

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
