import type { PolicySnapshot } from '../policyset/index.js';

/**
 * The policy snapshot in force: one reference, swapped whole. A check reads it once at its start
 * and decides from that snapshot to the end, even if a newer one arrives meanwhile.
 */
export class SnapshotHolder {
  #current: PolicySnapshot | undefined;

  set(snapshot: PolicySnapshot): void {
    // A source may deliver out of order (a slow rebuild finishing after a newer one): keep the newest.
    if (this.#current !== undefined && snapshot.revision < this.#current.revision) return;
    this.#current = snapshot;
  }

  get(): PolicySnapshot | undefined {
    return this.#current;
  }

  get ready(): boolean {
    return this.#current !== undefined;
  }
}
