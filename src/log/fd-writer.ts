import { write as fsWrite } from 'node:fs';

/**
 * Writes batches of log lines to a file descriptor (stdout in a pod): asynchronously, one write
 * at a time, in order, as Buffers encoded once. A log reader that stops reading never stalls a
 * review — what cannot be written waits in a queue bounded at `maxQueuedBytes`, and lines beyond
 * it are dropped and counted. `flush()` resolves once everything queued is written, which is
 * what shutdown waits for (SonicBoom's asynchronous mode could not promise that).
 */

/** The file system calls used (injectable for tests). */
export interface FdOps {
  write(fd: number, buffer: Buffer, callback: (error: NodeJS.ErrnoException | null, written: number) => void): void;
}

const NODE_FS: FdOps = {
  write: (fd, buffer, callback) => fsWrite(fd, buffer, 0, buffer.length, null, callback),
};

export interface FdWriterOptions {
  /** Default 16 MiB. */
  readonly maxQueuedBytes?: number;
  /** Wait before retrying a write the descriptor refused for now (EAGAIN), ms. Default 10. */
  readonly retryMs?: number;
  readonly ops?: FdOps;
}

export class FdWriter {
  readonly #fd: number;
  readonly #max: number;
  readonly #retryMs: number;
  readonly #ops: FdOps;
  readonly #queue: Buffer[] = [];
  #queued = 0;
  #writing = false;
  #waiters: (() => void)[] = [];
  #dropped = 0;

  constructor(fd: number, options: FdWriterOptions = {}) {
    this.#fd = fd;
    this.#max = options.maxQueuedBytes ?? 16 * 1024 * 1024;
    this.#retryMs = options.retryMs ?? 10;
    this.#ops = options.ops ?? NODE_FS;
  }

  /** Lines dropped so far: the queue was full, or the descriptor failed for good (EPIPE, EBADF). */
  get dropped(): number {
    return this.#dropped;
  }

  write(chunk: string): void {
    const buffer = Buffer.from(chunk, 'utf8');
    if (this.#queued + buffer.length > this.#max) {
      this.#dropped += countLines(buffer);
      return;
    }
    this.#queue.push(buffer);
    this.#queued += buffer.length;
    if (!this.#writing) this.#next();
  }

  /** Resolves once everything queued so far is written (or dropped). */
  flush(callback?: (error?: Error | null) => void): Promise<void> {
    const done =
      this.#writing || this.#queue.length > 0
        ? new Promise<void>((resolve) => this.#waiters.push(resolve))
        : Promise.resolve();
    if (callback !== undefined) void done.then(() => callback());
    return done;
  }

  #next(): void {
    const buffer = this.#queue[0];
    if (buffer === undefined) {
      this.#writing = false;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const resolve of waiters) resolve();
      return;
    }
    this.#writing = true;
    this.#ops.write(this.#fd, buffer, (error, written) => {
      if (error !== null) {
        if (error.code === 'EAGAIN') {
          setTimeout(() => this.#next(), this.#retryMs).unref();
          return;
        }
        this.#dropAll();
        this.#next();
        return;
      }
      this.#queued -= written;
      if (written < buffer.length) this.#queue[0] = buffer.subarray(written);
      else this.#queue.shift();
      this.#next();
    });
  }

  #dropAll(): void {
    for (const buffer of this.#queue.splice(0)) {
      this.#dropped += countLines(buffer);
      this.#queued -= buffer.length;
    }
  }
}

function countLines(buffer: Buffer): number {
  let n = 0;
  for (let at = buffer.indexOf(10); at !== -1; at = buffer.indexOf(10, at + 1)) n++;
  return n;
}
