import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Writes generated files that differ from what is on disk, or with `check` only reports them as
 * stale. Returns the number of stale files (0 when everything is up to date or was written).
 */
export function writeGenerated(
  files: Iterable<readonly [file: string, text: string]>,
  check: boolean,
  hint = '',
): number {
  let stale = 0;
  for (const [file, text] of files) {
    let current: string | undefined;
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === text) continue;
    if (check) {
      console.error(`stale: ${file}${hint}`);
      stale++;
    } else {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      console.error(`wrote ${file}`);
    }
  }
  return stale;
}
