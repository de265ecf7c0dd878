import cliProgress from 'cli-progress';
import type { Descriptor } from '../oci/index.js';
import type { CopyEvents } from '../transfer/index.js';

/** `1.5 MiB`, `512 B`: sizes as oras and docker print them. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit] as string}`;
}

function label(d: Descriptor): string {
  return `${d.digest.slice(0, 19)}…`;
}

/**
 * Progress of a copy on a terminal (cli-progress): one bar per blob in flight, moved by every
 * chunk that passes (bytes, not whole blobs), then marked copied, mounted or already there;
 * manifests as they are pushed. Nothing is drawn unless the stream is a terminal.
 */
export function copyProgress(stream: NodeJS.WritableStream): { events: CopyEvents; stop(): void } {
  const multibar = new cliProgress.MultiBar(
    {
      stream,
      format: ' {status} {label} |{bar}| {doneBytes} / {totalBytes}',
      barCompleteChar: '█',
      barIncompleteChar: '░',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      autopadding: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, { bar: cliProgress.SingleBar; done: number }>();
  const payload = (status: string, d: Descriptor, done: number): Record<string, string> => ({
    status,
    label: label(d),
    doneBytes: formatBytes(done),
    totalBytes: formatBytes(d.size),
  });
  const events: CopyEvents = {
    blobStart: (d) => {
      if (bars.has(d.digest)) return;
      bars.set(d.digest, { bar: multibar.create(Math.max(d.size, 1), 0, payload('…      ', d, 0)), done: 0 });
    },
    blobBytes: (d, n) => {
      const entry = bars.get(d.digest);
      if (entry === undefined) return;
      entry.done += n;
      entry.bar.update(Math.min(entry.done, Math.max(d.size, 1)), payload('↑      ', d, entry.done));
    },
    blobDone: (d, outcome) => {
      const entry = bars.get(d.digest);
      if (entry === undefined) return;
      const status = outcome === 'copied' ? '✓ Copied' : outcome === 'mounted' ? '✓ Mounted' : '✓ Exists';
      entry.bar.update(Math.max(d.size, 1), payload(status.padEnd(9), d, outcome === 'copied' ? entry.done : d.size));
      entry.bar.stop();
    },
    manifestDone: (d, outcome) => {
      const bar = multibar.create(
        Math.max(d.size, 1),
        Math.max(d.size, 1),
        payload((outcome === 'copied' ? '✓ Copied' : '✓ Exists').padEnd(9), d, d.size),
      );
      bar.stop();
    },
  };
  return { events, stop: () => multibar.stop() };
}
