import type { ConversionNote, NoteLevel } from './types.js';

/** Helpers shared by the importers: reading untyped objects, and collecting notes. */

export type Obj = Record<string, unknown>;

export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function obj(value: unknown): Obj {
  return isObject(value) ? value : {};
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function strings(value: unknown): string[] {
  return list(value).filter((v): v is string => typeof v === 'string');
}

/** `Kind namespace/name (file#n)`: how notes name an input object. */
export function describe(object: Obj, origin: string): string {
  const metadata = obj(object['metadata']);
  const name = str(metadata['name']) ?? '(no name)';
  const namespace = str(metadata['namespace']);
  return `${str(object['kind']) ?? '(no kind)'} ${namespace === undefined ? '' : `${namespace}/`}${name} (${origin})`;
}

export class Notes {
  readonly all: ConversionNote[] = [];

  readonly #seen = new Set<string>();

  /** Adds a note once: the same problem reached twice (a provider two stores use) is said once. */
  add(level: NoteLevel, subject: string, message: string): void {
    const key = `${level}\u0000${subject}\u0000${message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.all.push({ level, subject, message });
  }
  info(subject: string, message: string): void {
    this.add('info', subject, message);
  }
  warn(subject: string, message: string): void {
    this.add('warning', subject, message);
  }
}
