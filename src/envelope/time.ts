import { PortcullisError } from '../errors/index.js';

/**
 * RFC 3339 date-times as the JWS envelope carries them (signature-envelope-jws.md: signing time,
 * expiry and authentic signing time are RFC 3339 strings). Offsets other than `Z` occur in real
 * envelopes (`2023-06-27T13:30:33+08:00`, notary-spec-digest §4). Like Go's time.Parse(RFC3339),
 * the upper-case `T`/`Z` form is required, fractional seconds are allowed, and every field is
 * range-checked (no leap second, no 24:00, no 30 February).
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

export function parseRfc3339(text: string): Date | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const millis = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000 + 1e-9);
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  // Date.UTC maps years 0-99 to 1900-1999; set the full year explicitly.
  const date = new Date(utc);
  date.setUTCFullYear(year, month - 1, day);
  return new Date(date.getTime() - offsetMinutes * 60_000);
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Formats as Go's time.Time.MarshalJSON does for a UTC time (RFC 3339 with nanoseconds, trailing
 * zeros of the fraction dropped), which is what notation writes into the JWS protected header.
 */
export function formatRfc3339(date: Date): string {
  const t = date.getTime();
  if (!Number.isFinite(t)) throw new PortcullisError('ERR_INPUT_INVALID', 'time is not a valid date');
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new PortcullisError('ERR_INPUT_INVALID', 'time year is outside [0,9999]');
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ for years 0-9999
  const whole = iso.slice(0, 19);
  const ms = date.getUTCMilliseconds();
  const fraction = ms === 0 ? '' : `.${String(ms).padStart(3, '0').replace(/0+$/, '')}`;
  return `${whole}${fraction}Z`;
}

/** Whole seconds since the epoch, truncated, as notation's COSE encoder writes tag-1 times. */
export function epochSeconds(date: Date): number {
  const t = date.getTime();
  if (!Number.isFinite(t)) throw new PortcullisError('ERR_INPUT_INVALID', 'time is not a valid date');
  return Math.floor(t / 1000);
}
