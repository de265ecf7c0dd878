/**
 * Kubernetes object names for converted resources. Inputs name things freely (Ratify store
 * names like `CA_Certs`, Kyverno rule names with spaces); the output must be a DNS subdomain
 * (and a Notary trust store name, `[a-zA-Z0-9_.-]+`, which a DNS subdomain always is).
 */

const MAX_NAME = 253;

/**
 * Lower case, runs of other characters to `-`, trimmed to start and end alphanumeric; `fallback`
 * when nothing is left.
 */
export function objectName(text: string, fallback = 'imported'): string {
  const cleaned = text
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, MAX_NAME)
    .replace(/[^a-z0-9]+$/, '');
  return cleaned === '' ? fallback : cleaned;
}

/** `a-b-c` from parts, each made a name; empty parts are left out. */
export function joinName(...parts: readonly string[]): string {
  return objectName(parts.filter((p) => p !== '').join('-'));
}

/** Hands out names unique within a scope (kind and namespace), appending -2, -3… on collision. */
export class NameRegistry {
  readonly #taken = new Set<string>();

  claim(scope: string, wanted: string): string {
    let name = wanted;
    for (let i = 2; this.#taken.has(`${scope}\u0000${name}`); i++) {
      const suffix = `-${i}`;
      name = `${wanted.slice(0, MAX_NAME - suffix.length)}${suffix}`;
    }
    this.#taken.add(`${scope}\u0000${name}`);
    return name;
  }
}
