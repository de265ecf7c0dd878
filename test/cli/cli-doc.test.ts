import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENERATED_MARKER, commandHelps, renderCliReference } from '../../src/cli/cli-doc.js';
import { cli } from '../helpers/cli.js';

const DOC = readFileSync(join(import.meta.dirname, '../../docs/cli.md'), 'utf8');

/** `-o, --output <format>` → `--output`; the flags of a help text, in order. */
function flags(help: string): string[] {
  return [...help.matchAll(/^ {2}(?:-[a-zA-Z], )?(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1] as string);
}

function section(doc: string, path: readonly string[]): string {
  const heading = `### portcullis${path.map((p) => ` ${p}`).join('')}\n`;
  const start = doc.indexOf(heading);
  expect(start, `docs/cli.md has a section "${heading.trim()}"`).toBeGreaterThanOrEqual(0);
  const end = doc.indexOf('\n### ', start + heading.length);
  return doc.slice(start, end < 0 ? undefined : end);
}

describe('docs/cli.md', () => {
  it('holds the reference exactly as the commands print their help (npm run docs:cli)', () => {
    const at = DOC.indexOf(GENERATED_MARKER);
    expect(at).toBeGreaterThan(0);
    expect(DOC.slice(at)).toBe(renderCliReference());
  });

  it('documents every command, and every option each command accepts when run', async () => {
    const helps = commandHelps();
    expect(helps.map((h) => h.path.join(' '))).toEqual(
      expect.arrayContaining([
        'copy',
        'attach',
        'list',
        'login',
        'logout',
        'policy init',
        'policy import',
        'cert show',
        'cert delete',
        'key set-default',
      ]),
    );
    for (const { path } of helps) {
      const r = await cli([...path, '--help']);
      expect(r.status, path.join(' ')).toBe(0);
      const documented = flags(section(DOC, path));
      expect(documented, `options of "portcullis ${path.join(' ')}"`).toEqual(flags(r.stdout));
      expect(documented.length).toBeGreaterThan(0);
    }
  });
});
