import { stringify } from 'yaml';
import type { InvalidResource } from '../policyset/index.js';
import { formatResourceId } from '../policyset/index.js';
import type { Conversion, ConversionNote } from './types.js';

/**
 * The importers' output: a YAML stream of the converted manifests, headed by comments that
 * repeat the notes (so the file explains itself in review), and the notes as text lines for
 * standard error.
 */

/**
 * Notes quote the input (names, patterns), which is not trusted: one line, no control
 * characters, so that a name can neither end the YAML comment it is printed in (a CR is a YAML
 * line break too) nor drive the terminal.
 */
function printable(text: string): string {
  return [...text]
    .map((c) => {
      const code = c.codePointAt(0) ?? 0;
      return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029 ? ' ' : c;
    })
    .join('');
}

export function noteLine(note: ConversionNote): string {
  return printable(`${note.level}: ${note.subject}: ${note.message}`);
}

export function invalidLine(invalid: InvalidResource): string {
  return printable(`invalid: ${formatResourceId(invalid.id)}: ${invalid.reason} [${invalid.code}]`);
}

export function renderYaml(source: string, conversion: Conversion, invalid: readonly InvalidResource[]): string {
  const header = [
    `# Converted by \`portcullis import ${source}\`: review before applying (docs/migrating.md).`,
    ...conversion.notes.map((n) => `# ${noteLine(n)}`),
    ...invalid.map((i) => `# ${invalidLine(i)}`),
  ];
  const documents = conversion.manifests.map((m) => stringify(m, { lineWidth: 0, blockQuote: 'literal' }).trimEnd());
  return `${header.join('\n')}\n${documents.map((d) => `---\n${d}\n`).join('')}`;
}
