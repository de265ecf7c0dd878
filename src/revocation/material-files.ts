import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RevocationMaterial, type MaterialItem } from './material.js';

/**
 * Operator-supplied revocation material as files in a directory:
 *
 *   <dir>/crl/*    CRLs, DER or PEM ("X509 CRL" blocks; several per file allowed), complete and delta
 *   <dir>/ocsp/*   OCSP responses, DER (what `openssl ocsp -respout` writes)
 *
 * The CLI's directory is `<config-dir>/revocation`; the webhook's is `verification.revocationMaterial`
 * (files mounted into the pod). Names starting with "." are skipped (a mounted ConfigMap's
 * `..data` bookkeeping); symbolic links are followed (a ConfigMap's files are links). A missing
 * directory is no material. Each file is read up to a cap; a larger one is a problem, not read.
 */

export const MATERIAL_LIMITS = { crlMaxBytes: 32 * 1024 * 1024, ocspMaxBytes: 1024 * 1024, maxFiles: 1000 } as const;

async function readCapped(path: string, max: number): Promise<Uint8Array | string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(max + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > max) return `larger than ${max} bytes`;
    }
    return new Uint8Array(buffer.subarray(0, length));
  } finally {
    await handle.close();
  }
}

async function readKind(
  dir: string,
  max: number,
  problems: string[],
): Promise<{ items: MaterialItem[]; signature: string }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { items: [], signature: '' };
    problems.push(`${dir}: ${(error as Error).message}`);
    return { items: [], signature: '' };
  }
  if (names.length > MATERIAL_LIMITS.maxFiles) {
    problems.push(
      `${dir}: more than ${MATERIAL_LIMITS.maxFiles} files; only the first ${MATERIAL_LIMITS.maxFiles} are read`,
    );
    names = names.slice(0, MATERIAL_LIMITS.maxFiles);
  }
  const items: MaterialItem[] = [];
  const parts: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    try {
      const info = await stat(path);
      if (!info.isFile()) continue;
      parts.push(`${name}:${info.size}:${info.mtimeMs}`);
      const bytes = await readCapped(path, max);
      if (typeof bytes === 'string') problems.push(`${path}: ${bytes}`);
      else items.push({ origin: path, bytes });
    } catch (error) {
      problems.push(`${path}: ${(error as Error).message}`);
    }
  }
  return { items, signature: parts.join('|') };
}

/** Reads `<dir>/crl` and `<dir>/ocsp`; what cannot be read or parsed is listed in `problems`. */
export async function loadRevocationMaterial(dir: string): Promise<RevocationMaterial> {
  return (await readMaterial(dir)).material;
}

async function readMaterial(dir: string): Promise<{ material: RevocationMaterial; signature: string }> {
  const problems: string[] = [];
  const crls = await readKind(join(dir, 'crl'), MATERIAL_LIMITS.crlMaxBytes, problems);
  const ocsp = await readKind(join(dir, 'ocsp'), MATERIAL_LIMITS.ocspMaxBytes, problems);
  const material = new RevocationMaterial({ crls: crls.items, ocspResponses: ocsp.items, problems });
  return { material, signature: `${crls.signature}#${ocsp.signature}` };
}

/**
 * The material of a directory, re-read when its files change (checked every `intervalMs`), so
 * that CRLs an operator replaces in a mounted volume take effect without a restart. A check reads
 * `current()`: the last material read.
 */
export class RevocationMaterialDirectory {
  readonly dir: string;
  #current: RevocationMaterial = RevocationMaterial.EMPTY;
  #signature = '';
  #timer: NodeJS.Timeout | undefined;
  readonly #onLoad: (material: RevocationMaterial) => void;

  constructor(dir: string, onLoad: (material: RevocationMaterial) => void = () => undefined) {
    this.dir = dir;
    this.#onLoad = onLoad;
  }

  current(): RevocationMaterial {
    return this.#current;
  }

  /** Reads the directory now (again only when something changed). */
  async refresh(): Promise<RevocationMaterial> {
    const { material, signature } = await readMaterial(this.dir);
    if (signature !== this.#signature || this.#current === RevocationMaterial.EMPTY) {
      this.#signature = signature;
      this.#current = material;
      this.#onLoad(material);
    }
    return this.#current;
  }

  /** Reads now, then every `intervalMs` (the timer does not keep the process alive). */
  async start(intervalMs: number): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh().catch(() => undefined), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
