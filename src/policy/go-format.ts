// notation-go builds its messages with Go's %q verb; users compare our messages with
// notation's, so slices and maps are printed the way fmt prints them.
import { goQuote } from '../x509/index.js';

export { goQuote };

/** A string slice as Go's `%q` prints it: `["a" "b"]`. */
export function goQuoteList(values: readonly string[]): string {
  return `[${values.map(goQuote).join(' ')}]`;
}

/** A slice of string maps as Go's `%q` prints it: `[map["C":"US" "O":"x"]]` (fmt sorts keys). */
export function goQuoteMaps(maps: readonly Readonly<Record<string, string>>[]): string {
  const one = (m: Readonly<Record<string, string>>): string =>
    `map[${Object.keys(m)
      .sort()
      .map((k) => `${goQuote(k)}:${goQuote(m[k] as string)}`)
      .join(' ')}]`;
  return `[${maps.map(one).join(' ')}]`;
}
