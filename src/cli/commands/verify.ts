import { PortcullisError } from '../../errors/index.js';
import { loadTrustPolicyFile } from '../../config/trust-policy-file.js';
import { loadTrustStores } from '../../config/trust-store-dir.js';
import { OciLayout, layoutSignatureSource, parseLayoutReference } from '../../layout/index.js';
import { selectStatement } from '../../policy/index.js';
import { CertificateCache } from '../../x509/certificate.js';
import { DEFAULT_MAX_SIGNATURE_ATTEMPTS, verifyArtifact } from '../../verify/index.js';
import { EXIT, type CliIo } from '../io.js';
import { outputFormat, positiveInteger } from '../options.js';
import { humanReport, toReport } from '../verify-report.js';

export interface VerifyCommandOptions {
  readonly configDir: string;
  readonly ociLayout?: boolean;
  readonly scope?: string;
  readonly output?: string;
  readonly maxSignatureAttempts?: string;
  readonly userMetadata?: readonly string[];
}

function parseMetadata(pairs: readonly string[] | undefined): Record<string, string> | undefined {
  if (pairs === undefined || pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new PortcullisError('ERR_INPUT_INVALID', `--user-metadata "${pair}" must be KEY=VALUE`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** `portcullis verify --oci-layout <dir>@<digest>|<dir>:<tag> [--scope registry/repo]`. */
export async function verifyCommand(reference: string, opts: VerifyCommandOptions, io: CliIo): Promise<number> {
  const format = outputFormat(opts.output);
  const max = positiveInteger('--max-signature-attempts', opts.maxSignatureAttempts, DEFAULT_MAX_SIGNATURE_ATTEMPTS);
  if (opts.ociLayout !== true) {
    throw new PortcullisError('ERR_INPUT_INVALID', 'registry references are not supported yet: pass --oci-layout with <dir>@<digest> or <dir>:<tag>');
  }
  const userMetadata = parseMetadata(opts.userMetadata);
  const ref = parseLayoutReference(reference);
  const { policy } = await loadTrustPolicyFile(opts.configDir);
  const layout = await OciLayout.open(ref.dir);
  const artifact = await layout.resolve(ref);
  // notation selects the statement for a layout by --scope; without one only a `*` statement can apply.
  const repository = opts.scope ?? '';
  const cache = new CertificateCache();
  // Only the stores of the statement in force are read: a broken store elsewhere does not matter here.
  const statement = selectStatement(policy, repository, reference);
  const trustStores = await loadTrustStores(opts.configDir, statement.trustStores, cache);
  const result = await verifyArtifact(
    { reference, repository, artifact, ...(userMetadata === undefined ? {} : { userMetadata }) },
    { policy, trustStores, source: layoutSignatureSource(layout), at: io.now(), maxSignatureAttempts: max, certificateCache: cache },
  );
  const report = toReport(result);
  if (format === 'json') io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else if (report.verified) io.stdout(humanReport(report));
  else io.stderr(humanReport(report));
  return report.verified ? EXIT.ok : EXIT.failed;
}
