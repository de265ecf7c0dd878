import { readFile, stat } from 'node:fs/promises';
import { PortcullisError } from '../../errors/index.js';
import {
  checkManifests,
  convertKyverno,
  convertRatify,
  invalidLine,
  noteLine,
  readInputObjects,
  type Conversion,
  type ConvertOptions,
  type InputObject,
} from '../../migrate/index.js';
import { ENFORCEMENT_ACTIONS, type EnforcementAction } from '../../policyset/index.js';
import { renderYaml } from '../../migrate/index.js';
import { EXIT, type CliIo } from '../io.js';

/** A policy export is small; a file beyond this is not one (and is not read into memory). */
const MAX_INPUT_BYTES = 16 * 1024 * 1024;

export type ImportSource = 'ratify' | 'kyverno';

const CONVERTERS: Readonly<Record<ImportSource, (inputs: readonly InputObject[], o: ConvertOptions) => Conversion>> = {
  ratify: convertRatify,
  kyverno: convertKyverno,
};

const WHAT: Readonly<Record<ImportSource, string>> = {
  ratify:
    'no Ratify notation Verifier or NamespacedVerifier (config.ratify.deislabs.io) and no Executor or NamespacedExecutor with a notation verifier (config.ratify.dev, config.ratify.sh)',
  kyverno:
    'no Kyverno ClusterPolicy or Policy with a verifyImages rule of type Notary, and no ImageValidatingPolicy with a notary attestor',
};

/**
 * `portcullis import ratify|kyverno FILE…`: the converted TrustPolicy, ClusterTrustPolicy,
 * TrustStore and ClusterTrustStore manifests on standard output (YAML, headed by the notes as
 * comments), the notes and the resources Portcullis would refuse on standard error. Exit 0:
 * everything was carried over as it was; 1: written, but something was left out, widened or
 * would be invalid (read the notes); 2: the input could not be read or held nothing to convert.
 */
export async function importCommand(
  source: ImportSource,
  files: readonly string[],
  opts: { enforcementAction?: string },
  io: CliIo,
): Promise<number> {
  const options: ConvertOptions =
    opts.enforcementAction === undefined ? {} : { enforcementAction: enforcementAction(opts.enforcementAction) };
  const inputs: InputObject[] = [];
  for (const file of files) {
    const text = file === '-' ? await io.readStdin() : await readInput(file);
    try {
      inputs.push(...readInputObjects(text, file === '-' ? 'stdin' : file));
    } catch (error) {
      throw new PortcullisError('ERR_INPUT_INVALID', error instanceof Error ? error.message : String(error));
    }
  }
  const conversion = CONVERTERS[source](inputs, options);
  if (conversion.converted === 0 || conversion.manifests.length === 0) {
    for (const note of conversion.notes) io.stderr(`${noteLine(note)}\n`);
    throw new PortcullisError('ERR_IMPORT_NOTHING_TO_CONVERT', `${files.join(', ')}: ${WHAT[source]}`);
  }
  const invalid = checkManifests(conversion.manifests);
  io.stdout(renderYaml(source, conversion, invalid));
  for (const note of conversion.notes) io.stderr(`${noteLine(note)}\n`);
  for (const entry of invalid) io.stderr(`${invalidLine(entry)}\n`);
  const warnings = conversion.notes.filter((n) => n.level === 'warning').length;
  io.stderr(
    `${conversion.manifests.length} manifest(s) written; ${warnings} warning(s), ${invalid.length} invalid resource(s)${warnings + invalid.length > 0 ? ': review them before applying (docs/migrating.md)' : ''}\n`,
  );
  return warnings + invalid.length > 0 ? EXIT.failed : EXIT.ok;
}

function enforcementAction(value: string): EnforcementAction {
  if ((ENFORCEMENT_ACTIONS as readonly string[]).includes(value)) return value as EnforcementAction;
  throw new PortcullisError(
    'ERR_INPUT_INVALID',
    `--enforcement-action ${value}: must be one of ${ENFORCEMENT_ACTIONS.join(', ')}`,
  );
}

async function readInput(file: string): Promise<string> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new PortcullisError('ERR_INPUT_INVALID', `${file}: not a regular file`);
    if (info.size > MAX_INPUT_BYTES) {
      throw new PortcullisError('ERR_SIZE_LIMIT', `${file}: ${info.size} bytes, more than the ${MAX_INPUT_BYTES} read`);
    }
    return await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof PortcullisError) throw error;
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
