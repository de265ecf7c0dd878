import { readFileSync } from 'node:fs';
import { readInputObjects } from '../../src/migrate/index.js';
import type { InputObject, Manifest } from '../../src/migrate/index.js';

/** Test helpers: the fixtures of test/fixtures/migrate (written from Ratify's and Kyverno's documentation). */

const FIXTURES = new URL('../fixtures/migrate/', import.meta.url);

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

export function fixture(...names: readonly string[]): InputObject[] {
  return names.flatMap((name) => readInputObjects(fixtureText(name), name));
}

/** The PEM of a fixture certificate (ca.crt, leaf.crt, selfsigned.crt, tsa-root.crt), as written. */
export function pem(name: string): string {
  return fixtureText(name).trim();
}

export function find(manifests: readonly Manifest[], kind: string, name: string, namespace?: string): any {
  const found = manifests.find((m) => {
    const metadata = m['metadata'] as { name: string; namespace?: string };
    return m['kind'] === kind && metadata.name === name && metadata.namespace === namespace;
  });
  if (found === undefined) {
    const have = manifests.map((m) => `${String(m['kind'])} ${(m['metadata'] as { name: string }).name}`).join(', ');
    throw new Error(`no ${kind} ${namespace === undefined ? '' : `${namespace}/`}${name} among ${have}`);
  }
  return found;
}

/** The certificates of a converted store, trimmed, for comparison with pem(). */
export function storeCertificates(store: any): string[] {
  return (store.spec.certificates as string[]).map((c) => c.trim());
}
