import fc from 'fast-check';

/**
 * Settings of the property-based fuzz tests (`*.fuzz.test.ts`). In `make test` they run with a
 * fixed seed and a small budget, so the suite is reproducible and quick; `npm run fuzz`
 * (scripts/fuzz.ts) runs them longer with a random seed, passed in FUZZ_SEED, and FUZZ_SCALE
 * multiplies every property's number of runs. A failure message carries fast-check's seed and
 * counterexample path: `FUZZ_SEED=<seed> npx vitest run <file>` replays it.
 */

/** The fixed seed of `make test`. */
export const DEFAULT_SEED = 20_241_212;

function envNumber(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new Error(`${name}=${text} is not a number`);
  return n;
}

export const FUZZ_SEED = envNumber('FUZZ_SEED') ?? DEFAULT_SEED;
export const FUZZ_SCALE = Math.max(1, envNumber('FUZZ_SCALE') ?? 1);

/** fast-check parameters: this seed, `runs` × the scale, every failure reported with its seed. */
export function fuzz(runs: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(runs * FUZZ_SCALE)), verbose: 1 };
}

/** A test timeout that grows with the scale. */
export function fuzzTimeout(baseMs: number): number {
  return Math.round(baseMs * FUZZ_SCALE) + 10_000;
}

/** A byte mutation: flip, set, insert, delete or truncate, at a position chosen by the arbitrary. */
export type ByteMutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: readonly number[] }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  | { readonly kind: 'truncate'; readonly at: number };

const position = fc.nat({ max: 1_000_000 });
export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: position, value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: position,
    bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: position, count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
);

/** Applies mutations in order (positions taken modulo the current length). */
export function mutateBytes(input: Uint8Array, mutations: readonly ByteMutation[]): Uint8Array {
  let bytes = Buffer.from(input);
  for (const m of mutations) {
    if (bytes.length === 0) break;
    const at = m.at % bytes.length;
    if (m.kind === 'flip') bytes[at] = (bytes[at] as number) ^ (1 << m.bit);
    else if (m.kind === 'set') bytes[at] = m.value;
    else if (m.kind === 'insert')
      bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes), bytes.subarray(at)]);
    else if (m.kind === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.count)]);
    else bytes = bytes.subarray(0, at);
  }
  return new Uint8Array(bytes);
}

/** A JSON-level mutation: replace, delete, or re-case a key at a path chosen by the arbitrary. */
export type JsonMutation =
  | { readonly kind: 'replace'; readonly pick: number; readonly value: unknown }
  | { readonly kind: 'delete'; readonly pick: number }
  | { readonly kind: 'recase'; readonly pick: number }
  | { readonly kind: 'wrap'; readonly pick: number };

export const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  fc.record({
    kind: fc.constant('replace' as const),
    pick: fc.nat(),
    value: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(null, '', 0, -1, 1e308, [], {}, 'x'.repeat(300), '\u0000', '../..'),
    ),
  }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('recase' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('wrap' as const), pick: fc.nat() }),
);

/** Every node of a JSON value with the container holding it (the root has none). */
function nodes(root: unknown): { parent: Record<string, unknown> | unknown[]; key: string | number }[] {
  const out: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach((v, i) => (out.push({ parent: value, key: i }), walk(v)));
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        out.push({ parent: value as Record<string, unknown>, key: k });
        walk(v);
      }
    }
  };
  walk(root);
  return out;
}

/** Applies JSON mutations to a deep copy. */
export function mutateJson<T>(input: T, mutations: readonly JsonMutation[]): T {
  const root = structuredClone(input) as unknown;
  for (const m of mutations) {
    const all = nodes(root);
    if (all.length === 0) break;
    const { parent, key } = all[m.pick % all.length] as (typeof all)[number];
    const p = parent as Record<string | number, unknown>;
    if (m.kind === 'replace') p[key] = structuredClone(m.value);
    else if (m.kind === 'wrap') p[key] = [p[key]];
    else if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete p[key];
    } else if (!Array.isArray(parent) && typeof key === 'string') {
      const recased = key === key.toLowerCase() ? key.toUpperCase() : key.toLowerCase();
      const value = p[key];
      delete p[key];
      p[recased] = value;
    }
  }
  return root as T;
}
