/**
 * A pino destination that gathers lines and hands them to the underlying stream in batches:
 * when `maxBatchBytes` have gathered, or `flushIntervalMs` after the first line of a batch.
 *
 * Why: a write to the descriptor costs an encoding pass, bookkeeping and a system call, and the
 * webhook writes a line per review; batching makes that once per ~90 lines under load. Why a
 * timer too: at low traffic a line must not wait for the batch to fill (`kubectl logs` should
 * show a review within a fraction of a second). Order is kept because
 * every line — pino's and the review lines — goes through the same buffer.
 */

/** What the batches are written to (an `FdWriter`, or any stream). */
export interface LineSink {
  write(chunk: string): unknown;
  flush?(callback?: (error?: Error | null) => void): void;
}

export interface BatchedDestinationOptions {
  /** Hand the batch over once it holds this many characters. Default 16384. */
  readonly maxBatchBytes?: number;
  /** Hand a batch over at the latest this long after its first line, ms. Default 50. */
  readonly flushIntervalMs?: number;
}

export class BatchedDestination {
  readonly #sink: LineSink;
  readonly #maxBatch: number;
  readonly #intervalMs: number;
  #batch = '';
  #timer: NodeJS.Timeout | undefined;

  constructor(sink: LineSink, options: BatchedDestinationOptions = {}) {
    this.#sink = sink;
    this.#maxBatch = options.maxBatchBytes ?? 16_384;
    this.#intervalMs = options.flushIntervalMs ?? 50;
    if (!(this.#maxBatch > 0) || !(this.#intervalMs >= 0))
      throw new RangeError('maxBatchBytes must be > 0 and flushIntervalMs ≥ 0');
  }

  write(chunk: string): boolean {
    this.#batch += chunk;
    if (this.#batch.length >= this.#maxBatch) this.#handOver();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#handOver(), this.#intervalMs);
      this.#timer.unref();
    }
    return true;
  }

  /** Hands the gathered lines over now, then asks the sink to flush (pino's `logger.flush(cb)`). */
  flush(callback?: (error?: Error | null) => void): void {
    this.#handOver();
    if (this.#sink.flush !== undefined) this.#sink.flush(callback);
    else callback?.();
  }

  #handOver(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#batch === '') return;
    const batch = this.#batch;
    this.#batch = '';
    this.#sink.write(batch);
  }
}
