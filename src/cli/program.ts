import { Command } from 'commander';
import { resolveConfigDir } from '../notation-config/index.js';
import type * as signModule from './commands/sign.js';
import type * as verifyModule from './commands/verify.js';
import type * as inspectModule from './commands/inspect.js';
import type * as listModule from './commands/list.js';
import type * as discoverModule from './commands/discover.js';
import type * as copyModule from './commands/copy.js';
import type * as attachModule from './commands/attach.js';
import type * as loginModule from './commands/login.js';
import type * as serveModule from './commands/serve.js';
import type * as policyModule from './commands/policy.js';
import type * as certModule from './commands/cert.js';
import type * as keyModule from './commands/key.js';
import type * as importModule from './commands/import.js';
import type * as blobModule from './commands/blob.js';
import type * as auditModule from './commands/audit.js';
import type * as explainModule from './commands/explain.js';
import type { CliIo } from './io.js';
import { collect } from './pairs.js';
import { addRegistryOptions } from './registry-flags.js';
import { addConfigCommands } from './program-config.js';
import { addBlobCommands } from './program-blob.js';
import { addSigningOptions, addVerificationOptions } from './signing-flags.js';

import { VERSION } from './version.js';

export { VERSION };

/**
 * The command modules, loaded only when their command runs: `portcullis --help` or `policy show`
 * must not pay for the registry client, the X.509 stack or the webhook (bench: CLI start-up).
 */
export interface CommandModules {
  sign: typeof signModule;
  verify: typeof verifyModule;
  inspect: typeof inspectModule;
  list: typeof listModule;
  discover: typeof discoverModule;
  copy: typeof copyModule;
  attach: typeof attachModule;
  login: typeof loginModule;
  serve: typeof serveModule;
  policy: typeof policyModule;
  cert: typeof certModule;
  key: typeof keyModule;
  import: typeof importModule;
  blob: typeof blobModule;
  audit: typeof auditModule;
  explain: typeof explainModule;
}
export type CommandName = keyof CommandModules;
export type CommandLoader = <K extends CommandName>(name: K) => Promise<CommandModules[K]>;

/** What every command gets besides its own options. */
export interface GlobalOptions {
  readonly configDir: string;
  readonly verbose: boolean;
  readonly debug: boolean;
}

export interface ProgramHooks {
  readonly load: CommandLoader;
  /** Runs a command's body; returns nothing, the status is kept by the caller. */
  readonly run: (
    name: CommandName,
    body: () => Promise<number>,
    globals: GlobalOptions,
    wantsJson: boolean,
  ) => Promise<void>;
}

// commander's options are untyped; every command checks the ones it reads.
export type Opts = any;

/** Makes a command's action: its module loaded on demand, its options merged with the global ones. */
export type Act = <K extends CommandName>(
  name: K,
  body: (m: CommandModules[K], args: string[], opts: Opts) => Promise<number>,
) => (...received: unknown[]) => Promise<void>;

/**
 * The whole command line, declared without loading any command: commander parses, prints help
 * and usage errors; each action imports its module on demand. docs/cli.md is generated from
 * this (npm run docs:cli) and a test keeps the two equal.
 */
export function buildProgram(io: CliIo, hooks: ProgramHooks, helpWidth?: number): Command {
  const program = new Command('portcullis')
    .description('Sign, verify, inspect and copy artifacts with Notary Project signatures; run the admission webhook')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .configureHelp({
      showGlobalOptions: true,
      sortSubcommands: false,
      ...(helpWidth === undefined ? {} : { helpWidth }),
    })
    .showHelpAfterError('(run with --help for usage)');
  program
    .option(
      '--config-dir <dir>',
      'notation configuration directory (default $NOTATION_CONFIG, else ~/.config/notation)',
    )
    .option(
      '-v, --verbose',
      "print each registry request (method, URL, status, time, bytes) and each check's result on stderr",
    )
    .option('-d, --debug', 'like --verbose, with the request and response headers (credentials masked)');

  const globals = (cmd: Command): GlobalOptions => {
    const o = cmd.optsWithGlobals<{ configDir?: string; verbose?: boolean; debug?: boolean }>();
    return {
      configDir: resolveConfigDir(o.configDir, io.env),
      verbose: o.verbose === true || o.debug === true,
      debug: o.debug === true,
    };
  };
  /** An action: the command's own options merged with the global ones, its module loaded on demand. */
  const act: Act =
    <K extends CommandName>(name: K, body: (m: CommandModules[K], args: string[], opts: Opts) => Promise<number>) =>
    async (...received: unknown[]): Promise<void> => {
      const cmd = received[received.length - 1] as Command;
      // A variadic argument (<files...>) arrives as one array: spread it.
      const args = received.slice(0, -2).flat() as string[];
      const g = globals(cmd);
      const opts: Opts = { ...cmd.opts(), ...g };
      const wantsJson = (cmd.opts() as { output?: string }).output === 'json';
      await hooks.run(name, async () => body(await hooks.load(name), args, opts), g, wantsJson);
    };
  const layoutOption = (
    cmd: Command,
    what = 'the reference is an OCI image layout: <dir>:<tag> or <dir>@<digest>',
  ): Command => cmd.option('--oci-layout', what);

  // --- signing and verification ----------------------------------------------------------
  addRegistryOptions(
    addSigningOptions(
      layoutOption(
        program
          .command('sign')
          .description('sign an artifact (a tag is signed by its digest) and push the signature next to it')
          .argument(
            '<reference>',
            'registry/repository:tag or @digest; with --oci-layout: <dir>:<tag> or <dir>@<digest>',
          ),
        'the reference is an OCI image layout; the signature is written into it',
      ),
    ).option('-o, --output <format>', 'text or json', 'text'),
  ).action(act('sign', (m, [reference], opts) => m.signCommand(reference as string, opts, io)));

  addRegistryOptions(
    addVerificationOptions(
      layoutOption(
        program
          .command('verify')
          .description('verify the signatures of an artifact against the trust policy')
          .argument(
            '<reference>',
            'registry/repository:tag or @digest; with --oci-layout: <dir>:<tag> or <dir>@<digest>',
          ),
      )
        .option(
          '--scope <repository>',
          "registry/repository whose trust policy statement applies (default: the reference's; for a layout only a * statement applies without it)",
        )
        .option('-o, --output <format>', 'text or json', 'text')
        .option('--max-signature-attempts <n>', 'failed signatures tolerated before giving up', '100'),
    )
      .option(
        '--platforms <mode>',
        "whose signatures count for a multi-platform image: index, all (every platform manifest's) or any-of-index-or-all",
        'any-of-index-or-all',
      )
      .option(
        '--require-artifact <type>',
        'artifact type that must be attached and signed, e.g. application/spdx+json (repeatable)',
        collect,
      )
      .option(
        '--artifact-policy <name>',
        "trust policy statement the required artifacts' signatures must pass (default: the artifact's statement)",
      )
      .option(
        '--artifact-max-age <duration>',
        'required artifacts no older than this (30d, 720h), by their created date',
      ),
  ).action(act('verify', (m, [reference], opts) => m.verifyCommand(reference as string, opts, io)));

  addRegistryOptions(
    layoutOption(
      program
        .command('inspect')
        .description(
          'show the signatures of an artifact with their attributes and certificate chains (no trust decision)',
        )
        .argument('<reference>', 'registry reference; with --oci-layout: <dir>:<tag> or <dir>@<digest>'),
    )
      .option('-o, --output <format>', 'text or json', 'text')
      .option(
        '--revocation <mode>',
        "also check each certificate's revocation status and show which source answered: online (supplied files, then OCSP/CRL over the network) or offline (supplied files only)",
      )
      .option(
        '--platforms <mode>',
        'for the trust decision shown when a trust policy exists: index, all or any-of-index-or-all (the default)',
      ),
  ).action(act('inspect', (m, [reference], opts) => m.inspectCommand(reference as string, opts, io)));

  addRegistryOptions(
    layoutOption(
      program
        .command('list')
        .alias('ls')
        .description('list the signatures of an artifact, as notation list prints them')
        .argument('<reference>', 'registry reference; with --oci-layout: <dir>:<tag> or <dir>@<digest>'),
    )
      .option('--max-signatures <n>', 'most signatures listed', '100')
      .option('-o, --output <format>', 'text or json', 'text'),
  ).action(act('list', (m, [reference], opts) => m.listCommand(reference as string, opts, io)));

  addBlobCommands(program, act, io);

  // --- content -----------------------------------------------------------------------------
  addRegistryOptions(
    layoutOption(
      program
        .command('discover')
        .description('print the referrer graph of an artifact (signatures, SBOMs, their signatures)')
        .argument('<reference>', 'registry reference; with --oci-layout: <dir>:<tag> or <dir>@<digest>'),
    )
      .option('--artifact-type <type>', 'only referrers of this type at the first level')
      .option('--depth <n>', 'levels to follow (1-8)')
      .option('-o, --output <format>', 'tree, table or json', 'tree'),
  ).action(act('discover', (m, [reference], opts) => m.discoverCommand(reference as string, opts, io)));

  addRegistryOptions(
    program
      .command('copy')
      .alias('cp')
      .description('copy an artifact (and with -r its referrer graph) between registries and OCI image layouts')
      .argument('<source>', 'source reference (with --from-oci-layout: <dir>:<tag> or <dir>@<digest>)')
      .argument(
        '<destination>',
        'destination reference, tag optional: the source tag is kept (with --to-oci-layout: <dir>[:<tag>])',
      )
      .option('-r, --recursive', 'copy the referrer graph too (signatures, SBOMs and their signatures)')
      .option('--from-oci-layout', 'the source is an OCI image layout')
      .option('--to-oci-layout', 'the destination is an OCI image layout (created if missing)')
      .option(
        '--platform <os/arch[/variant]>',
        'copy only this platform of an image index (the platform manifest becomes the root)',
      )
      .option('--concurrency <n>', 'blobs transferred at once', '3')
      .option('-o, --output <format>', 'text or json (what was copied, skipped and mounted)', 'text'),
    '300',
  ).action(
    act('copy', (m, [source, destination], opts) => m.copyCommand(source as string, destination as string, opts, io)),
  );

  addRegistryOptions(
    layoutOption(
      program
        .command('attach')
        .description(
          'attach files to an artifact as a new referrer artifact (an SBOM, a scan report), as oras attach does',
        )
        .argument(
          '<subject>',
          'the artifact to attach to (registry reference; with --oci-layout: <dir>:<tag> or <dir>@<digest>)',
        )
        .argument('<files...>', 'files to attach, each optionally as <file>:<media type>'),
      'the subject is in an OCI image layout; the artifact is written into it',
    )
      .requiredOption('--artifact-type <type>', 'artifact type of the new artifact, e.g. application/spdx+json')
      .option('-a, --annotation <key=value>', "annotation of the new artifact's manifest (repeatable)", collect)
      .option('-o, --output <format>', "text, json, or digest (only the new artifact's digest, for scripts)", 'text'),
  ).action(act('attach', (m, [subject, ...files], opts) => m.attachCommand(subject as string, files, opts, io)));

  // --- credentials -------------------------------------------------------------------------
  program
    .command('login')
    .description(
      'check credentials against a registry, then store them as Docker does (credential helper or config.json)',
    )
    .argument('<registry>', 'registry host[:port]')
    .option('-u, --username <name>', 'username')
    .option('-p, --password <password>', 'password or token')
    .option('--password-stdin', 'read the password from standard input')
    .option('--plain-http', 'use HTTP instead of HTTPS (loopback registries use HTTP without it)')
    .option('--registry-ca <file>', 'PEM CA bundle to trust for registry TLS')
    .option('--timeout <seconds>', 'deadline of the check', '30')
    .action(act('login', (m, [registry], opts) => m.loginCommand(registry as string, opts, io)));
  program
    .command('logout')
    .description('remove the stored credentials of a registry (from its credential helper or config.json)')
    .argument('<registry>', 'registry host[:port]')
    .action(act('login', (m, [registry], opts) => m.logoutCommand(registry as string, opts, io)));

  // --- the webhook -------------------------------------------------------------------------
  program
    .command('serve')
    .description('run the admission webhook and Gatekeeper provider over HTTPS (until SIGTERM)')
    .option(
      '--policies <dir>',
      'TrustPolicy/ClusterTrustPolicy/TrustStore/ClusterTrustStore manifests (reloaded on change)',
    )
    .option('--kubernetes', 'read the policy resources from the Kubernetes API (in-cluster service account)')
    .option('--kubeconfig <file>', 'read the policy resources from the Kubernetes API with this kubeconfig')
    .option('--port <port>', 'HTTPS port', '8443')
    .option('--host <address>', 'listen address', '0.0.0.0')
    .option('--tls-cert <file>', 'serving certificate (PEM; reloaded on change)')
    .option('--tls-key <file>', 'serving key (PEM)')
    .option(
      '--dev-cert-dir <dir>',
      'where a development CA and certificate are made when no --tls-cert is given',
      '.portcullis-dev-cert',
    )
    .option('--config <file>', 'configuration YAML (docs/configuration.md)')
    .action(act('serve', (m, _args, opts) => m.serveCommand(opts, io)));

  // --- before and after enforcing: what would be denied, and why ---------------------------
  const clusterOptions = (c: Command): Command =>
    c
      .option(
        '--kubeconfig <file>',
        'the cluster (default: as kubectl — $KUBECONFIG, ~/.kube/config, else the service account in a pod)',
      )
      .option('--policies <dir>', "decide by the policy manifests of this directory instead of the cluster's")
      .option('--config <file>', "the server's configuration YAML (docs/configuration.md): the same engine settings");
  clusterOptions(
    program
      .command('audit')
      .description(
        'decide every image that runs (Pods and workload pod templates) as the webhook would; exit 1 when one would be denied',
      ),
  )
    .option('-n, --namespace <namespace>', 'only this namespace (default: the namespaces the policies cover)')
    .option('-A, --all-namespaces', 'every namespace, covered by a policy or not')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .option('--concurrency <n>', 'images decided at once (default audit.concurrency of --config, 4)')
    .action(act('audit', (m, _args, opts) => m.auditCommand(opts, io)));
  clusterOptions(
    program
      .command('explain')
      .description(
        "explain the webhook's decision for an image: every policy and why it applies, the signatures, every check, what would make it pass",
      ),
  )
    .option('--namespace <namespace>', "the namespace the image would run in (default: the manifest's, else default)")
    .option('--image <reference>', 'the image (repeatable)', collect)
    .option('-f, --file <file>', 'a Pod or workload manifest (its namespace, images, pull secrets, service account)')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(act('explain', (m, _args, opts) => m.explainCommand(opts, io)));

  addConfigCommands(program, act, io);

  // --- coming from other admission controllers ---------------------------------------------
  const importer = program
    .command('import')
    .description(
      'convert the Notary verification of another admission controller into TrustPolicy/TrustStore manifests (YAML on stdout, notes on stderr)',
    );
  const enforcement = 'deny, warn or dryrun for every policy written (default: ratify deny; kyverno from each policy)';
  importer
    .command('ratify')
    .description(
      "Ratify's notation Verifier/NamespacedVerifier, KeyManagementProvider/CertificateStore (inline certificates) and v2 Executor/NamespacedExecutor",
    )
    .argument('<files...>', 'Ratify manifests (YAML or JSON, - for standard input)')
    .option('--enforcement-action <action>', enforcement)
    .action(act('import', (m, files, opts) => m.importCommand('ratify', files, opts, io)));
  importer
    .command('kyverno')
    .description(
      "Kyverno's ClusterPolicy/Policy verifyImages rules of type Notary and ImageValidatingPolicy notary attestors",
    )
    .argument('<files...>', 'Kyverno policies (YAML or JSON, - for standard input)')
    .option('--enforcement-action <action>', enforcement)
    .action(act('import', (m, files, opts) => m.importCommand('kyverno', files, opts, io)));

  return program;
}
