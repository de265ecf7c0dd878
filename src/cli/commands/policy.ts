import { loadTrustPolicyFile } from '../../config/trust-policy-file.js';
import { EXIT, type CliIo } from '../io.js';
import { outputFormat } from '../options.js';

/** `portcullis policy validate [FILE]`: the whole document, every rule; exit 2 when invalid. */
export async function policyValidateCommand(file: string | undefined, opts: { configDir: string; output?: string }, io: CliIo): Promise<number> {
  const format = outputFormat(opts.output);
  const loaded = await loadTrustPolicyFile(opts.configDir, file);
  if (format === 'json') {
    io.stdout(`${JSON.stringify({ valid: true, path: loaded.path, statements: loaded.policy.statements.map((s) => s.name) }, null, 2)}\n`);
  } else {
    io.stdout(`trust policy ${loaded.path} is valid (${loaded.policy.statements.length} statement${loaded.policy.statements.length === 1 ? '' : 's'}: ${loaded.policy.statements.map((s) => s.name).join(', ')})\n`);
  }
  return EXIT.ok;
}

/** `portcullis policy show`: prints the document in force, after validating it. */
export async function policyShowCommand(opts: { configDir: string; output?: string }, io: CliIo): Promise<number> {
  const format = outputFormat(opts.output);
  const loaded = await loadTrustPolicyFile(opts.configDir);
  if (format === 'json') {
    io.stdout(`${JSON.stringify({ path: loaded.path, policy: JSON.parse(loaded.text) as unknown, effective: loaded.policy }, null, 2)}\n`);
  } else {
    io.stdout(`# ${loaded.path}\n${loaded.text.endsWith('\n') ? loaded.text : `${loaded.text}\n`}`);
  }
  return EXIT.ok;
}
