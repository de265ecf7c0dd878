import { resolve } from 'node:path';

/** The shared Notary conformance vectors (../shared/vectors beside the repository). */
export const VECTORS = resolve(import.meta.dirname, '../../../shared/vectors');

export function vector(...parts: string[]): string {
  return resolve(VECTORS, ...parts);
}
