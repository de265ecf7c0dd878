import { loadTrustPolicyFile } from '../../config/trust-policy-file.js';
import { loadTrustStores } from '../../config/trust-store-dir.js';
import { selectStatement } from '../../policy/index.js';
import { PortcullisError } from '../../errors/index.js';
import { CertificateCache } from '../../x509/certificate.js';
import { DEFAULT_MAX_SIGNATURE_ATTEMPTS, verifyArtifact, type RevocationChecker } from '../../verify/index.js';
import { ProcessVerificationPlugins, pluginDirectory } from '../../plugin/index.js';
import { EXIT, type CliIo } from '../io.js';
import { parsePairs } from '../pairs.js';
import { outputFormat, positiveInteger, type OutputFormat } from '../options.js';
import { openTarget, type Target, type TargetOptions } from '../target.js';
import type { TrustPolicy } from '../../policy/types.js';
import { humanReport, toReport } from '../verify-report.js';

export interface VerifyCommandOptions extends TargetOptions {
  readonly configDir: string;
  readonly output?: string;
  readonly maxSignatureAttempts?: string;
  readonly userMetadata?: readonly string[];
  readonly revocation?: string;
  readonly pluginConfig?: readonly string[];
  readonly verbose?: boolean;
}

/**
 * The OCSP/CRL checker, loaded on the first certificate chain that needs it: a self-signed
 * signer (a test key) never pays for the HTTP client and the ASN.1 schemas of revocation.
 */
function revocationChecker(mode: string | undefined, cache: CertificateCache): RevocationChecker {
  const m = mode ?? 'online';
  if (m !== 'online' && m !== 'offline')
    throw new PortcullisError('ERR_INPUT_INVALID', `--revocation must be online or offline, got "${m}"`);
  let inner: Promise<RevocationChecker> | undefined;
  return {
    check: async (chain, at) => {
      // No certificate names an OCSP responder or a CRL: every one is non-revokable, which is
      // the checker's own answer for such a chain (src/revocation/checker.ts), without loading it.
      if (chain.every((c) => c.ocspUrls.length === 0 && c.crlUrls.length === 0)) {
        const last = chain.length - 1;
        return {
          status: 'nonRevokable',
          certificates: chain.map((c, i) => ({
            status: 'nonRevokable' as const,
            detail: i === last && c.selfIssued ? 'root certificate: not revocation-checked' : 'no OCSP or CRL location',
          })),
        };
      }
      inner ??= import('../../revocation/index.js').then(
        ({ HttpRevocationFetcher, OnlineRevocationChecker }) =>
          new OnlineRevocationChecker({
            fetcher: new HttpRevocationFetcher({ userAgent: 'portcullis/0.1.0' }),
            mode: m,
            certificateCache: cache,
          }),
      );
      return (await inner).check(chain, at);
    },
  };
}

/** `portcullis verify <reference>` or `--oci-layout <dir>@<digest>|<dir>:<tag> [--scope registry/repo]`. */
export async function verifyCommand(reference: string, opts: VerifyCommandOptions, io: CliIo): Promise<number> {
  const format = outputFormat(opts.output);
  const max = positiveInteger('--max-signature-attempts', opts.maxSignatureAttempts, DEFAULT_MAX_SIGNATURE_ATTEMPTS);
  const userMetadata = parsePairs('--user-metadata', opts.userMetadata);
  const pluginConfig = parsePairs('--plugin-config', opts.pluginConfig);
  if (opts.revocation !== undefined && opts.revocation !== 'online' && opts.revocation !== 'offline') {
    throw new PortcullisError('ERR_INPUT_INVALID', `--revocation must be online or offline, got "${opts.revocation}"`);
  }
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
  const trustStores = await loadTrustStores(configDir, statement.trustStores, cache);
  const result = await verifyArtifact(
    { reference, repository, artifact, ...(userMetadata === undefined ? {} : { userMetadata }) },
    {
      policy,
      trustStores,
      source: target.source,
      at: io.now(),
      maxSignatureAttempts: max,
      certificateCache: cache,
      revocation: revocationChecker(opts.revocation, cache),
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
    io.stderr(
      `trust policy statement "${statement.name}" (scope ${repository === '' ? '*' : repository})\n${checkLines(result.signatures.map((s) => ({ signature: s.signature, checks: s.checks })))}`,
    );
    for (const s of result.signatures) {
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
