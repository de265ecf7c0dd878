import { loadTrustPolicyFile, writeTrustPolicy } from '../../notation-config/index.js';
import { PortcullisError } from '../../errors/index.js';
import { loadTrustPolicy } from '../../policy/index.js';
import { EXIT, type CliIo } from '../io.js';
import { outputFormat, type OutputFormat } from '../options.js';

const LEVELS = ['strict', 'permissive', 'audit', 'skip'] as const;

/** `portcullis policy validate [FILE]`: the whole document, every rule; exit 2 when invalid. */
export async function policyValidateCommand(
  file: string | undefined,
  opts: { configDir: string; output?: string },
  io: CliIo,
): Promise<number> {
  const format = outputFormat(opts.output);
  const loaded = await loadTrustPolicyFile(opts.configDir, file);
  if (format === 'json') {
    io.stdout(
      `${JSON.stringify({ valid: true, path: loaded.path, statements: loaded.policy.statements.map((s) => s.name) }, null, 2)}\n`,
    );
  } else {
    io.stdout(
      `trust policy ${loaded.path} is valid (${loaded.policy.statements.length} statement${loaded.policy.statements.length === 1 ? '' : 's'}: ${loaded.policy.statements.map((s) => s.name).join(', ')})\n`,
    );
  }
  return EXIT.ok;
}

/**
 * `portcullis policy show`: the document in force exactly as stored, so that
 * `policy show > file` exports it (as notation's). Validated first: a broken document is an
 * error that says what is wrong, not a print-out.
 */
export async function policyShowCommand(opts: { configDir: string; output?: string }, io: CliIo): Promise<number> {
  const format = outputFormat(opts.output);
  return printStoredPolicy(await loadTrustPolicyFile(opts.configDir), format, io);
}

/**
 * A validated policy document as stored (text) or, with -o json, its path, the document and the
 * effective policy (`policy show` and `blob policy show`).
 */
export function printStoredPolicy(
  loaded: { readonly path: string; readonly text: string; readonly policy: unknown },
  format: OutputFormat,
  io: CliIo,
): number {
  if (format === 'json') {
    io.stdout(
      `${JSON.stringify({ path: loaded.path, policy: JSON.parse(loaded.text) as unknown, effective: loaded.policy }, null, 2)}\n`,
    );
  } else {
    io.stdout(loaded.text.endsWith('\n') ? loaded.text : `${loaded.text}\n`);
  }
  return EXIT.ok;
}

/** `portcullis policy import FILE [--force]`: validated exactly as verification reads it, then written. */
export async function policyImportCommand(
  file: string,
  opts: { configDir: string; force?: boolean },
  io: CliIo,
): Promise<number> {
  const { text } = await loadTrustPolicyFile(opts.configDir, file);
  const written = await writeTrustPolicy(opts.configDir, text, { force: opts.force === true });
  if (written.removed !== undefined) io.stdout(`Deleted the old trust policy ${written.removed}\n`);
  io.stdout(`Successfully imported the trust policy to ${written.path}\n`);
  return EXIT.ok;
}

export interface PolicyInitOptions {
  readonly configDir: string;
  readonly name?: string;
  readonly scope?: readonly string[];
  readonly trustStore?: readonly string[];
  readonly trustedIdentity?: readonly string[];
  readonly level?: string;
  readonly force?: boolean;
}

/**
 * `portcullis policy init --name N [--scope S…] --trust-store ca:NAME… --trusted-identity ID…`:
 * a document with one statement, strict verification unless --level says otherwise, the scope
 * `*` unless given (as notation's `blob policy init` writes its one statement). The document is
 * validated by the same rules verification applies before anything is written.
 */
export async function policyInitCommand(opts: PolicyInitOptions, io: CliIo): Promise<number> {
  const level = opts.level ?? 'strict';
  if (!(LEVELS as readonly string[]).includes(level))
    throw new PortcullisError('ERR_INPUT_INVALID', `--level must be one of ${LEVELS.join(', ')}, got "${level}"`);
  const name = opts.name ?? '';
  if (name === '') throw new PortcullisError('ERR_INPUT_INVALID', 'policy init needs --name');
  const stores = opts.trustStore ?? [];
  const identities = opts.trustedIdentity ?? [];
  if (level !== 'skip' && (stores.length === 0 || identities.length === 0)) {
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `a ${level} statement needs --trust-store TYPE:NAME and --trusted-identity (for example "x509.subject: CN=…" or *)`,
    );
  }
  const statement = {
    name,
    registryScopes: opts.scope === undefined || opts.scope.length === 0 ? ['*'] : [...opts.scope],
    signatureVerification: { level },
    ...(level === 'skip' ? {} : { trustStores: [...stores], trustedIdentities: [...identities] }),
  };
  const text = `${JSON.stringify({ version: '1.0', trustPolicies: [statement] }, null, 2)}\n`;
  loadTrustPolicy(text);
  const written = await writeTrustPolicy(opts.configDir, text, { force: opts.force === true });
  if (written.removed !== undefined) io.stdout(`Deleted the old trust policy ${written.removed}\n`);
  io.stdout(`Successfully initialized the trust policy ${written.path}\n`);
  return EXIT.ok;
}
