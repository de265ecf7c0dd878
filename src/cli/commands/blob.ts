import { readFile, rename, stat, writeFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadBlobTrustPolicyFile, loadTrustStores, writeBlobTrustPolicy } from '../../notation-config/index.js';
import { PortcullisError, toPortcullisError } from '../../errors/index.js';
import { parseEnvelope, parsePayload, type EnvelopeFormat } from '../../envelope/index.js';
import { ProcessVerificationPlugins, pluginDirectory } from '../../plugin/index.js';
import { loadBlobTrustPolicy, selectBlobStatement } from '../../policy/index.js';
import {
  blobSignaturePath,
  parseExpiryDuration,
  signBlob,
  signatureMediaTypeOfFile,
  type BlobSigner,
} from '../../signing/index.js';
import { accuracyMsOf, parseTimestampToken } from '../../timestamp/index.js';
import { verifyBlob, type BlobVerification } from '../../verify/index.js';
import { CertificateCache } from '../../x509/index.js';
import { fileBlob } from '../blob-file.js';
import { readSignature } from '../signature-file.js';
import { EXIT, type CliIo } from '../io.js';
import { outputFormat } from '../options.js';
import { parsePairs } from '../pairs.js';
import { cliRevocationChecker, revocationMode } from '../revocation-checker.js';
import { chooseSigner, type SignCommandOptions } from './sign.js';
import { printStoredPolicy } from './policy.js';
import { printable } from '../printable.js';

const VERSION = '0.1.0';

/** The signature algorithms as notation names them (signature-specification.md "Algorithm Selection"). */
const ALGORITHM_NAMES: Readonly<Record<string, string>> = {
  PS256: 'RSASSA-PSS-SHA-256',
  PS384: 'RSASSA-PSS-SHA-384',
  PS512: 'RSASSA-PSS-SHA-512',
  ES256: 'ECDSA-SHA-256',
  ES384: 'ECDSA-SHA-384',
  ES512: 'ECDSA-SHA-512',
};

export interface BlobSignCommandOptions extends SignCommandOptions {
  readonly signatureDirectory?: string;
  readonly mediaType?: string;
  readonly force?: boolean;
}

function envelopeFormat(value: string | undefined): EnvelopeFormat {
  const format = value ?? 'jws';
  if (format !== 'jws' && format !== 'cose')
    throw new PortcullisError('ERR_INPUT_INVALID', `--signature-format must be jws or cose, got "${format}"`);
  return format;
}

/**
 * `portcullis blob sign FILE`: a detached signature of the file, written beside it (or in
 * --signature-directory) as `<file name>.<jws|cose>.sig`, as `notation blob sign` writes it. An
 * existing signature file is replaced only with --force.
 */
export async function blobSignCommand(file: string, opts: BlobSignCommandOptions, io: CliIo): Promise<number> {
  const format = outputFormat(opts.output);
  const envelope = envelopeFormat(opts.signatureFormat);
  const expiryMs = opts.expiry === undefined ? undefined : parseExpiryDuration(opts.expiry);
  const metadata = parsePairs('--user-metadata', opts.userMetadata);
  const blob = await fileBlob(file);
  const target = resolve(blobSignaturePath(opts.signatureDirectory ?? dirname(file), file, envelope));
  if (opts.force !== true && (await exists(target))) {
    throw new PortcullisError(
      'ERR_SIGNATURE_FILE_EXISTS',
      `the signature file ${target} already exists: add --force to replace it`,
      { context: { subject: target } },
    );
  }
  const signer = await chooseSigner(opts);
  if (!('blobDigestAlgorithm' in signer))
    throw new PortcullisError('ERR_INPUT_INVALID', 'this signing key cannot sign blobs');
  const signingTime = io.now();
  const signed = await signBlob(signer as BlobSigner, blob, {
    format: envelope,
    signingTime,
    signingAgent: `portcullis/${VERSION}`,
    ...(opts.mediaType === undefined ? {} : { mediaType: opts.mediaType }),
    ...(expiryMs === undefined ? {} : { expiry: new Date(signingTime.getTime() + expiryMs) }),
    ...(metadata === undefined ? {} : { userMetadata: metadata }),
  });
  await mkdir(dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  // `wx`: never through a file or link someone else put at the temporary name.
  await writeFile(temporary, signed.envelope, { mode: 0o644, flag: 'wx' });
  await rename(temporary, target);
  if (format === 'json') {
    io.stdout(
      `${JSON.stringify({ blob: file, signature: target, mediaType: signed.mediaType, descriptor: signed.descriptor, signer: signed.chain[0]?.subject ?? null }, null, 2)}\n`,
    );
  } else {
    io.stdout(`Successfully signed ${file}\nSignature file written to ${target}\n`);
  }
  return EXIT.ok;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export interface BlobVerifyCommandOptions {
  readonly configDir: string;
  readonly signature?: string;
  readonly mediaType?: string;
  readonly policyName?: string;
  readonly userMetadata?: readonly string[];
  readonly pluginConfig?: readonly string[];
  readonly revocation?: string;
  readonly output?: string;
  readonly verbose?: boolean;
}

/**
 * `portcullis blob verify --signature SIG FILE`: the signature against trustpolicy.blob.json (the
 * statement --policy-name names, else the global one), the blob's size, digest and — with
 * --media-type — media type, as `notation blob verify`. Exit 0 verified, 1 rejected, 2 invalid input.
 */
export async function blobVerifyCommand(file: string, opts: BlobVerifyCommandOptions, io: CliIo): Promise<number> {
  const format = outputFormat(opts.output);
  if (opts.signature === undefined || opts.signature === '')
    throw new PortcullisError('ERR_INPUT_INVALID', 'blob verify needs --signature FILE');
  if (opts.mediaType !== undefined && opts.mediaType === '')
    throw new PortcullisError('ERR_INPUT_INVALID', '--media-type is set but with empty value');
  const userMetadata = parsePairs('--user-metadata', opts.userMetadata);
  const pluginConfig = parsePairs('--plugin-config', opts.pluginConfig);
  const signatureMediaType = signatureMediaTypeOfFile(opts.signature);
  const mode = revocationMode(opts.revocation);
  const envelope = await readSignature(opts.signature);
  const blob = await fileBlob(file);
  const { policy } = await loadBlobTrustPolicyFile(opts.configDir);
  const statement = selectBlobStatement(policy, opts.policyName);
  const cache = new CertificateCache();
  const trustStores = await loadTrustStores(opts.configDir, statement.trustStores, cache);
  const result = await verifyBlob(
    {
      signatureMediaType,
      envelope,
      blob,
      signature: opts.signature,
      ...(opts.mediaType === undefined ? {} : { mediaType: opts.mediaType }),
      ...(userMetadata === undefined ? {} : { userMetadata }),
    },
    {
      policy,
      ...(opts.policyName === undefined ? {} : { policyName: opts.policyName }),
      trustStores,
      at: io.now(),
      certificateCache: cache,
      revocation: cliRevocationChecker(mode, cache, opts.configDir, io),
      plugins: new ProcessVerificationPlugins({ directory: pluginDirectory(opts.configDir) }),
      ...(pluginConfig === undefined ? {} : { pluginConfig }),
    },
  );
  if (opts.verbose === true && result.result !== undefined) {
    const { checkLines } = await import('../diagnostics.js');
    io.stderr(
      `blob trust policy statement "${statement.name}"\n${checkLines([{ signature: opts.signature, checks: result.result.checks }])}`,
    );
  }
  const report = blobReport(result, file, opts.signature);
  if (format === 'json') io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const text = [
      report.verified ? report.message : `${report.message} [${report.code ?? 'ERR_INTERNAL'}]`,
      ...report.warnings.map((w) => `warning: ${w.message}`),
    ];
    const metadata = Object.entries(report.userMetadata ?? {});
    if (report.verified && metadata.length > 0) {
      text.push('', 'The signature contains the following user metadata:', '');
      const width = Math.max(3, ...metadata.map(([k]) => k.length));
      text.push(`${'KEY'.padEnd(width)}  VALUE`, ...metadata.map(([k, v]) => `${k.padEnd(width)}  ${v}`));
    }
    (report.verified ? io.stdout : io.stderr)(`${text.map(printable).join('\n')}\n`);
  }
  return report.verified ? EXIT.ok : EXIT.failed;
}

/** The `blob verify --output json` object (stable field names). */
function blobReport(result: BlobVerification, file: string, signature: string) {
  const policy = `blob trust policy "${result.policy.name}" (${result.policy.level})`;
  const check = result.failedCheck === null ? '' : `${result.failedCheck} check failed: `;
  const message = result.skipped
    ? `signature verification of ${file} skipped: ${policy} is configured to skip signature verification`
    : result.verified
      ? `Successfully verified signature ${signature} of ${file} with ${policy}`
      : `signature verification of ${file} failed under ${policy}: ${check}${result.error?.message ?? 'unknown error'}`;
  return {
    verified: result.verified,
    blob: file,
    signature,
    ...(result.blob === undefined ? {} : { descriptor: result.blob }),
    policy: result.policy.name,
    failedCheck: result.failedCheck,
    code: result.error?.code ?? null,
    message,
    warnings: result.warnings.map((w) => ({ check: w.check, message: w.message })),
    ...(result.userMetadata === undefined ? {} : { userMetadata: result.userMetadata }),
  };
}

/**
 * `portcullis blob inspect SIG`: the signature's attributes, certificates and signed artifact, no
 * trust decision (as `notation blob inspect`); the envelope type comes from the file name.
 */
export async function blobInspectCommand(signature: string, opts: { output?: string }, io: CliIo): Promise<number> {
  const format = outputFormat(opts.output);
  const mediaType = signatureMediaTypeOfFile(signature);
  const bytes = await readSignature(signature);
  let env;
  try {
    env = parseEnvelope(mediaType, bytes);
  } catch (error) {
    const e = toPortcullisError(error, 'ERR_ENVELOPE_MALFORMED');
    throw new PortcullisError(e.code, `failed to parse signature ${signature}: ${e.message}`, { cause: e });
  }
  const target = parsePayload(env.payload).targetArtifact;
  const signed: Record<string, string> = {
    contentType: env.signed.contentType,
    signingScheme: env.signed.signingScheme,
  };
  if (env.signed.signingTime !== undefined) signed.signingTime = env.signed.signingTime.toISOString();
  if (env.signed.authenticSigningTime !== undefined)
    signed.authenticSigningTime = env.signed.authenticSigningTime.toISOString();
  if (env.signed.expiry !== undefined) signed.expiry = env.signed.expiry.toISOString();
  if (env.signed.verificationPlugin !== undefined)
    signed['io.cncf.notary.verificationPlugin'] = env.signed.verificationPlugin;
  if (env.signed.verificationPluginMinVersion !== undefined)
    signed['io.cncf.notary.verificationPluginMinVersion'] = env.signed.verificationPluginMinVersion;
  for (const a of env.signed.extendedAttributes)
    signed[a.key] = typeof a.value === 'string' ? a.value : JSON.stringify(a.value);
  const unsigned: Record<string, unknown> = {};
  if (env.unsigned.signingAgent !== undefined) unsigned.signingAgent = env.unsigned.signingAgent;
  if (env.unsigned.timestampSignature !== undefined) {
    try {
      const token = parseTimestampToken(env.unsigned.timestampSignature);
      const accuracyMs = accuracyMsOf(token.info);
      unsigned.timestampSignature = {
        timestamp: `[${new Date(token.info.genTime.getTime() - accuracyMs).toISOString()}, ${new Date(token.info.genTime.getTime() + accuracyMs).toISOString()}]`,
        certificates: token.certificates.map((c) => ({ subject: c.subject, sha256: c.sha256 })),
      };
    } catch (error) {
      unsigned.timestampSignature = { error: toPortcullisError(error, 'ERR_TIMESTAMP_INVALID').message };
    }
  }
  const view = {
    signature,
    mediaType,
    signatureAlgorithm: ALGORITHM_NAMES[env.algorithm],
    signedAttributes: signed,
    userDefinedAttributes: { ...(target.annotations ?? {}) },
    unsignedAttributes: unsigned,
    certificates: env.unsigned.certificateChain.map((c) => ({
      sha256: c.sha256,
      subject: c.subject,
      issuer: c.issuer,
      validFrom: c.notBefore.toISOString(),
      validUntil: c.notAfter.toISOString(),
    })),
    signedArtifact: { mediaType: target.mediaType, digest: target.digest, size: target.size },
  };
  if (format === 'json') {
    io.stdout(`${JSON.stringify(view, null, 2)}\n`);
    return EXIT.ok;
  }
  const lines = [signature];
  const section = (title: string, entries: [string, string][], last = false): void => {
    lines.push(`${last ? '└──' : '├──'} ${title}`);
    entries.forEach(([k, v], i) =>
      lines.push(`${last ? '    ' : '│   '}${i === entries.length - 1 ? '└──' : '├──'} ${k}: ${v}`),
    );
  };
  lines.push(`├── signature algorithm: ${view.signatureAlgorithm}`, `├── signature envelope type: ${mediaType}`);
  section('signed attributes', Object.entries(signed));
  section('user defined attributes', Object.entries(view.userDefinedAttributes));
  section(
    'unsigned attributes',
    Object.entries(unsigned).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
  section(
    'certificates',
    view.certificates.map((c) => [
      `SHA256 fingerprint ${c.sha256}`,
      `${c.subject} (issued by ${c.issuer}, expiry ${c.validUntil})`,
    ]),
  );
  section(
    'signed artifact',
    [
      ['media type', target.mediaType],
      ['digest', target.digest],
      ['size', String(target.size)],
    ],
    true,
  );
  // One line per element: a newline or escape inside one came from the signature (anyone may edit its unsigned header).
  io.stdout(`${lines.map(printable).join('\n')}\n`);
  return EXIT.ok;
}

/** `portcullis blob policy show`: trustpolicy.blob.json as stored (validated first). */
export async function blobPolicyShowCommand(opts: { configDir: string; output?: string }, io: CliIo): Promise<number> {
  const format = outputFormat(opts.output);
  return printStoredPolicy(await loadBlobTrustPolicyFile(opts.configDir), format, io);
}

/** `portcullis blob policy import FILE [--force]`: validated as verification reads it, then written. */
export async function blobPolicyImportCommand(
  file: string,
  opts: { configDir: string; force?: boolean },
  io: CliIo,
): Promise<number> {
  const text = await readFile(file, 'utf8').catch((cause: Error) => {
    throw new PortcullisError('ERR_POLICY_NOT_FOUND', `cannot read blob trust policy "${file}": ${cause.message}`, {
      cause,
    });
  });
  try {
    loadBlobTrustPolicy(text);
  } catch (error) {
    throw toPortcullisError(error, 'ERR_POLICY_INVALID').withContext({ subject: file });
  }
  const written = await writeBlobTrustPolicy(opts.configDir, text, { force: opts.force === true });
  io.stdout(`Successfully imported the blob trust policy to ${written.path}\n`);
  return EXIT.ok;
}

export interface BlobPolicyInitOptions {
  readonly configDir: string;
  readonly name?: string;
  readonly trustStore?: readonly string[];
  readonly trustedIdentity?: readonly string[];
  readonly global?: boolean;
  readonly force?: boolean;
}

/**
 * `portcullis blob policy init --name N --trust-store ca:S… --trusted-identity ID… [--global]`:
 * one strict statement, as `notation blob policy init` writes it; validated before it is written.
 */
export async function blobPolicyInitCommand(opts: BlobPolicyInitOptions, io: CliIo): Promise<number> {
  const name = opts.name ?? '';
  if (name === '') throw new PortcullisError('ERR_INPUT_INVALID', 'blob policy init needs --name');
  const stores = opts.trustStore ?? [];
  const identities = opts.trustedIdentity ?? [];
  if (stores.length === 0 || identities.length === 0) {
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      'blob policy init needs --trust-store TYPE:NAME and --trusted-identity (for example "x509.subject: CN=…" or *)',
    );
  }
  const statement = {
    name,
    signatureVerification: { level: 'strict' },
    trustStores: [...stores],
    trustedIdentities: [...identities],
    ...(opts.global === true ? { globalPolicy: true } : {}),
  };
  const text = `${JSON.stringify({ version: '1.0', trustPolicies: [statement] }, null, 2)}\n`;
  loadBlobTrustPolicy(text);
  const written = await writeBlobTrustPolicy(opts.configDir, text, { force: opts.force === true });
  io.stdout(`Successfully initialized the blob trust policy ${written.path}\n`);
  return EXIT.ok;
}
