import { stringify } from 'yaml';
import type { InvalidResource } from '../policyset/index.js';
import { formatResourceId } from '../policyset/index.js';
import type { Conversion, ConversionNote } from './types.js';

/**
 * The importers' output: a YAML stream of the converted manifests, headed by comments that
 * repeat the notes (so the file explains itself in review), and the notes as text lines for
 * standard error.
 */

export function noteLine(note: ConversionNote): string {
  return `${note.level}: ${note.subject}: ${note.message}`;
}

export function invalidLine(invalid: InvalidResource): string {
  return `invalid: ${formatResourceId(invalid.id)}: ${invalid.reason} [${invalid.code}]`;
}

export function renderYaml(source: string, conversion: Conversion, invalid: readonly InvalidResource[]): string {
  const header = [
    `# Converted by \`portcullis import ${source}\`: review before applying (docs/migrating.md).`,
    ...conversion.notes.map((n) => `# ${noteLine(n)}`),
    ...invalid.map((i) => `# ${invalidLine(i)}`),
  ].map((line) => line.replace(/\n/g, ' '));
  const documents = conversion.manifests.map((m) => stringify(m, { lineWidth: 0, blockQuote: 'literal' }).trimEnd());
  return `${header.join('\n')}\n${documents.map((d) => `---\n${d}\n`).join('')}`;
}
