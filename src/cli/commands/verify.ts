import { loadTrustPolicyFile } from '../../config/trust-policy-file.js';
import { loadTrustStores } from '../../config/trust-store-dir.js';
import { selectStatement } from '../../policy/index.js';
import { PortcullisError } from '../../errors/index.js';
import { HttpRevocationFetcher, OnlineRevocationChecker } from '../../revocation/index.js';
import { CertificateCache } from '../../x509/certificate.js';
import { DEFAULT_MAX_SIGNATURE_ATTEMPTS, verifyArtifact } from '../../verify/index.js';
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
}

function revocationChecker(mode: string | undefined, cache: CertificateCache): OnlineRevocationChecker {
  const m = mode ?? 'online';
  if (m !== 'online' && m !== 'offline') throw new PortcullisError('ERR_INPUT_INVALID', `--revocation must be online or offline, got "${m}"`);
  return new OnlineRevocationChecker({ fetcher: new HttpRevocationFetcher({ userAgent: 'portcullis/0.1.0' }), mode: m, certificateCache: cache });
}

/** `portcullis verify <reference>` or `--oci-layout <dir>@<digest>|<dir>:<tag> [--scope registry/repo]`. */
export async function verifyCommand(reference: string, opts: VerifyCommandOptions, io: CliIo): Promise<number> {
  const format = outputFormat(opts.output);
  const max = positiveInteger('--max-signature-attempts', opts.maxSignatureAttempts, DEFAULT_MAX_SIGNATURE_ATTEMPTS);
  const userMetadata = parsePairs('--user-metadata', opts.userMetadata);
  if (opts.revocation !== undefined && opts.revocation !== 'online' && opts.revocation !== 'offline') {
    throw new PortcullisError('ERR_INPUT_INVALID', `--revocation must be online or offline, got "${opts.revocation}"`);
  }
  const { policy } = await loadTrustPolicyFile(opts.configDir);
  const target = await openTarget(reference, opts, io);
  try {
    return await verifyTarget(
      target,
      policy,
      { max, format, ...(userMetadata === undefined ? {} : { userMetadata }), ...(opts.revocation === undefined ? {} : { revocation: opts.revocation }) },
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
  opts: { max: number; format: OutputFormat; userMetadata?: Record<string, string>; revocation?: string },
  configDir: string,
  io: CliIo,
): Promise<number> {
  const { reference, repository, artifact } = target;
  const { max, format, userMetadata } = opts;
  const cache = new CertificateCache();
  // Only the stores of the statement in force are read: a broken store elsewhere does not matter here.
  const shown = target.canonical === undefined || target.canonical === reference ? reference : `${reference} (read as ${target.canonical})`;
  const statement = selectStatement(policy, repository, shown);
  const trustStores = await loadTrustStores(configDir, statement.trustStores, cache);
  const result = await verifyArtifact(
    { reference, repository, artifact, ...(userMetadata === undefined ? {} : { userMetadata }) },
    { policy, trustStores, source: target.source, at: io.now(), maxSignatureAttempts: max, certificateCache: cache, revocation: revocationChecker(opts.revocation, cache) },
  );
  const report = toReport(result, target.canonical);
  if (format === 'json') io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else if (report.verified) io.stdout(humanReport(report));
  else io.stderr(humanReport(report));
  return report.verified ? EXIT.ok : EXIT.failed;
}
