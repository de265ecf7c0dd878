import { PortcullisError } from '../errors/index.js';

export type OutputFormat = 'text' | 'json';

export function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === 'text') return 'text';
  if (value === 'json') return 'json';
  throw new PortcullisError('ERR_INPUT_INVALID', `--output must be "text" or "json", got "${value}"`);
}

export function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
    throw new PortcullisError('ERR_INPUT_INVALID', `${name} must be a positive integer, got "${value}"`);
  }
  return n;
}
