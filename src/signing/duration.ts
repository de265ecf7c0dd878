import { PortcullisError } from '../errors/index.js';

/**
 * `--expiry` durations, parsed as notation parses them. notation's flag is a Go `time.Duration`
 * (pflag → time.ParseDuration): a sequence of decimal numbers, each with an optional fraction and
 * a unit, e.g. `24h`, `1h30m`, `1.5h`, `90s`; units `ns`, `us` (also `µs`/`μs`), `ms`, `s`, `m`,
 * `h`. notation-go then rejects negative durations ("expiry duration cannot be a negative value")
 * and any that is not a whole number of seconds ("expiry duration supports minimum granularity of
 * seconds").
 *
 * Portcullis differences, both deliberate:
 * - `d` (24 hours) is also accepted as a unit, e.g. `7d`, `1d12h` (notation rejects it);
 * - zero is rejected: notation treats `0` as "no expiry", Portcullis asks the caller to omit
 *   `--expiry` instead, so a typo never silently drops the expiry.
 */

const NS_PER: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n, // U+00B5 micro sign
  μs: 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
};

/** Go's time.Duration is an int64 of nanoseconds; larger values are an error there too. */
const MAX_NS = (1n << 63n) - 1n;

function invalid(text: string, why?: string): PortcullisError {
  return new PortcullisError('ERR_INPUT_INVALID', `time: ${why ?? 'invalid duration'} ${JSON.stringify(text)}`);
}

/**
 * Parses a Go duration string (plus the `d` unit) to signed nanoseconds, with Go's grammar:
 * `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, where every number needs at least one digit and every
 * number a unit, except the bare `0`. Throws ERR_INPUT_INVALID with Go's messages.
 */
export function parseGoDuration(text: string): bigint {
  let s = text;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid(text);
  let total = 0n;
  while (s !== '') {
    const number = /^([0-9]*)(?:\.([0-9]*))?/.exec(s) as RegExpExecArray;
    const whole = number[1] ?? '';
    const fraction = number[2];
    if (whole === '' && (fraction === undefined || fraction === '')) throw invalid(text);
    s = s.slice(number[0].length);
    const unitMatch = /^[^0-9.]*/.exec(s) as RegExpExecArray;
    const unitName = unitMatch[0];
    if (unitName === '') throw invalid(text, 'missing unit in duration');
    const unit = NS_PER[unitName];
    if (unit === undefined) throw invalid(text, `unknown unit ${JSON.stringify(unitName)} in duration`);
    s = s.slice(unitName.length);
    let value = BigInt(whole === '' ? '0' : whole) * unit;
    if (fraction !== undefined && fraction !== '') {
      // Exact: floor(0.fraction × unit), as Go computes it (it rounds through float64 only for
      // fractions longer than an int64 can scale, which never changes the second granularity).
      value += (BigInt(fraction) * unit) / 10n ** BigInt(fraction.length);
    }
    total += value;
    if (total > MAX_NS) throw invalid(text);
  }
  return negative ? -total : total;
}

/**
 * Parses an `--expiry` value to milliseconds: a positive, whole number of seconds (see the
 * module comment for the accepted forms). Throws ERR_INPUT_INVALID otherwise.
 */
export function parseExpiryDuration(text: string): number {
  const ns = parseGoDuration(text);
  if (ns < 0n) throw new PortcullisError('ERR_INPUT_INVALID', 'expiry duration cannot be a negative value');
  if (ns === 0n) {
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      'expiry duration must be positive (omit --expiry for a signature that does not expire)',
    );
  }
  if (ns % 1_000_000_000n !== 0n) {
    throw new PortcullisError('ERR_INPUT_INVALID', 'expiry duration supports minimum granularity of seconds');
  }
  const ms = ns / 1_000_000n;
  if (ms > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(text);
  return Number(ms);
}
