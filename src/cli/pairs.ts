import { PortcullisError } from '../errors/index.js';

/** `KEY=VALUE` flags (repeatable) into a map; undefined when none were given. */
export function parsePairs(flag: string, pairs: readonly string[] | undefined): Record<string, string> | undefined {
  if (pairs === undefined || pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new PortcullisError('ERR_INPUT_INVALID', `${flag} "${pair}" must be KEY=VALUE`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
