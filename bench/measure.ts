export interface Measurement {
  readonly name: string;
  /** Median of the batch means, in microseconds per operation. */
  readonly microseconds: number;
  readonly operations: number;
}

/** Runs `fn` in batches for about `ms` milliseconds after a warm-up; reports the median batch mean. */
export async function measure(name: string, fn: () => Promise<void> | void, ms = 1500): Promise<Measurement> {
  for (let i = 0; i < 50; i++) await fn();
  const batchMeans: number[] = [];
  let operations = 0;
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < 20; i++) await fn();
    const elapsed = Number(process.hrtime.bigint() - start) / 1000;
    batchMeans.push(elapsed / 20);
    operations += 20;
  }
  batchMeans.sort((a, b) => a - b);
  return { name, microseconds: batchMeans[Math.floor(batchMeans.length / 2)] ?? NaN, operations };
}
