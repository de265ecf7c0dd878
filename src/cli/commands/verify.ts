import { loadTrustPolicyFile, loadTrustStores } from '../../notation-config/index.js';
import { selectStatement, statementNamed, type TrustPolicy, type TrustStoreRef } from '../../policy/index.js';
import { requirementsFromFlags, type ImageRequirementFlags } from '../image-requirements.js';
import { CertificateCache } from '../../x509/index.js';
import { DEFAULT_MAX_SIGNATURE_ATTEMPTS, verifyImage } from '../../verify/index.js';
import { ProcessVerificationPlugins, pluginDirectory } from '../../plugin/index.js';
import { EXIT, type CliIo } from '../io.js';
import { parsePairs } from '../pairs.js';
import { outputFormat, positiveInteger, type OutputFormat } from '../options.js';
import { openTarget, type Target, type TargetOptions } from '../target.js';
import { humanReport, toReport } from '../verify-report.js';
import { cliRevocationChecker, revocationMode } from '../revocation-checker.js';

export interface VerifyCommandOptions extends TargetOptions, ImageRequirementFlags {
  readonly configDir: string;
  readonly output?: string;
  readonly maxSignatureAttempts?: string;
  readonly userMetadata?: readonly string[];
  readonly revocation?: string;
  readonly pluginConfig?: readonly string[];
  readonly verbose?: boolean;
}

/** `portcullis verify <reference>` or `--oci-layout <dir>@<digest>|<dir>:<tag> [--scope registry/repo]`. */
export async function verifyCommand(reference: string, opts: VerifyCommandOptions, io: CliIo): Promise<number> {
  const format = outputFormat(opts.output);
  const max = positiveInteger('--max-signature-attempts', opts.maxSignatureAttempts, DEFAULT_MAX_SIGNATURE_ATTEMPTS);
  const userMetadata = parsePairs('--user-metadata', opts.userMetadata);
  const pluginConfig = parsePairs('--plugin-config', opts.pluginConfig);
  revocationMode(opts.revocation);
  const { policy } = await loadTrustPolicyFile(opts.configDir);
  const target = await openTarget(reference, opts, io);
  try {
    return await verifyTarget(
      target,
      policy,
      {
        max,
        format,
        verbose: opts.verbose === true,
        ...(userMetadata === undefined ? {} : { userMetadata }),
        ...(pluginConfig === undefined ? {} : { pluginConfig }),
        ...(opts.revocation === undefined ? {} : { revocation: opts.revocation }),
        flags: opts,
      },
      opts.configDir,
      io,
    );
  } finally {
    await target.close();
  }
}

async function verifyTarget(
  target: Target,
  policy: TrustPolicy,
  opts: {
    max: number;
    format: OutputFormat;
    userMetadata?: Record<string, string>;
    pluginConfig?: Record<string, string>;
    revocation?: string;
    verbose?: boolean;
    flags: ImageRequirementFlags;
  },
  configDir: string,
  io: CliIo,
): Promise<number> {
  const { reference, repository, artifact } = target;
  const { max, format, userMetadata } = opts;
  const cache = new CertificateCache();
  // Only the stores of the statement in force are read: a broken store elsewhere does not matter here.
  const shown =
    target.canonical === undefined || target.canonical === reference
      ? reference
      : `${reference} (read as ${target.canonical})`;
  const statement = selectStatement(policy, repository, shown);
  const requirements = requirementsFromFlags(opts.flags, policy, statement);
  // The stores of the statement in force, and of the statements required artifacts must pass.
  const refs: TrustStoreRef[] = [...statement.trustStores];
  for (const a of requirements.requiredArtifacts) {
    const named = a.trustPolicy === undefined ? undefined : statementNamed(policy, a.trustPolicy);
    for (const ref of named?.trustStores ?? [])
      if (!refs.some((r) => r.type === ref.type && r.name === ref.name)) refs.push(ref);
  }
  const trustStores = await loadTrustStores(configDir, refs, cache);
  const source = target.source;
  const result = await verifyImage(
    {
      reference,
      repository,
      artifact,
      requirements,
      ...(target.tag === undefined ? {} : { tag: target.tag }),
      ...(userMetadata === undefined ? {} : { userMetadata }),
    },
    {
      policy,
      statement,
      trustStores,
      source: {
        listSignatures: (a) => source.listSignatures(a),
        // Page by page where the source can: a signature that passes on the first page spares the rest.
        ...(source.signaturePages === undefined
          ? {}
          : { signaturePages: source.signaturePages.bind(source) as NonNullable<typeof source.signaturePages> }),
        fetchManifest: (d) => source.fetchManifest(d),
        fetchBlob: (d) => source.fetchBlob(d),
        listReferrers: (subject, artifactType) => target.listReferrers(subject, artifactType),
      },
      at: io.now(),
      maxSignatureAttempts: max,
      certificateCache: cache,
      revocation: cliRevocationChecker(revocationMode(opts.revocation), cache, configDir, io),
      // Plugins live where notation installs them: <config-dir>/plugins/<name>/notation-<name>.
      plugins: new ProcessVerificationPlugins({ directory: pluginDirectory(configDir) }),
      ...(opts.pluginConfig === undefined ? {} : { pluginConfig: opts.pluginConfig }),
    },
  );
  if (target.resolvedTag !== undefined) {
    // notation's warning: what was verified is the digest the tag named just now.
    io.stderr(
      `warning: always verify the artifact using digest(@${artifact.digest}) rather than a tag(:${target.resolvedTag}) because resolved digest may not point to the same signed artifact, as tags are mutable\n`,
    );
  }
  if (opts.verbose === true) {
    const { checkLines } = await import('../diagnostics.js');
    const { imageLines } = await import('../image-report.js');
    const checked = result.parts.flatMap((p) => p.signatures);
    io.stderr(
      `trust policy statement "${statement.name}" (scope ${repository === '' ? '*' : repository})\n${checkLines(checked.map((s) => ({ signature: s.signature, checks: s.checks })))}${imageLines(result)}`,
    );
    for (const s of checked) {
      const plugin = s.details?.plugin;
      if (plugin !== undefined)
        io.stderr(
          `signature ${s.signature}: verification plugin ${plugin.name} ${plugin.version} (${plugin.capabilities.join(', ')})\n`,
        );
    }
  }
  const report = toReport(result, target.canonical);
  if (format === 'json') io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else if (report.verified) io.stdout(humanReport(report));
  else io.stderr(humanReport(report));
  return report.verified ? EXIT.ok : EXIT.failed;
}
