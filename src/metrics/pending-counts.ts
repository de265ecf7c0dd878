import type { Counter } from 'prom-client';

/**
 * Counts by up to four label values, kept in nested maps (no key strings built per count) until
 * `flush` adds them to the prom-client counter.
 */
export class PendingCounts<L extends string> {
  readonly #names: readonly L[];
  readonly #root = new Map<
    string,
    Map<string, Map<string, Map<string, { readonly labels: Partial<Record<L, string>>; n: number }>>>
  >();
  readonly #entries: { readonly labels: Partial<Record<L, string>>; n: number }[] = [];

  /** `names`: the label names, in the order `add` takes their values. */
  constructor(names: readonly L[]) {
    this.#names = names;
  }

  add(a: string, b: string, c = '', d = ''): void {
    let m1 = this.#root.get(a);
    if (m1 === undefined) this.#root.set(a, (m1 = new Map()));
    let m2 = m1.get(b);
    if (m2 === undefined) m1.set(b, (m2 = new Map()));
    let m3 = m2.get(c);
    if (m3 === undefined) m2.set(c, (m3 = new Map()));
    let entry = m3.get(d);
    if (entry === undefined) {
      const values = [a, b, c, d];
      const labels: Partial<Record<L, string>> = {};
      this.#names.forEach((name, i) => (labels[name] = values[i]));
      entry = { labels, n: 0 };
      m3.set(d, entry);
      this.#entries.push(entry);
    }
    entry.n++;
  }

  flush(counter: Counter<L>): void {
    for (const entry of this.#entries) {
      if (entry.n === 0) continue;
      counter.inc(entry.labels, entry.n);
      entry.n = 0;
    }
  }
}
