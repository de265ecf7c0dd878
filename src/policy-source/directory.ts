import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { PortcullisError } from '../errors/index.js';
import {
  Fingerprint,
  SnapshotFeed,
  type InvalidResource,
  type PolicySnapshot,
  type PolicySource,
} from '../policyset/index.js';
import { CertificateCache } from '../x509/index.js';
import { Debounce } from './debounce.js';
import { parseManifests } from './manifests.js';

/**
 * Policies from a directory of manifests, as `kubectl apply -f DIR` would take them: every
 * `*.yaml`, `*.yml` and `*.json` file, recursively. Names starting with `.` are skipped (so a
 * mounted ConfigMap's `..data` and `..<timestamp>` entries are not read twice); symlinks to files
 * are followed, symlinks to directories are not.
 *
 * Loads once on start, then watches every directory (fs.watch, debounced as the Kubernetes
 * source is: debounce.ts) and rescans periodically as a fallback; the SnapshotFeed builds and
 * emits a new snapshot only when the bytes of the files changed. A file that cannot be parsed or is over the size cap,
 * and files beyond the
 * file-count cap, become `invalid` entries that block every namespace (they may have held any
 * policy). An I/O failure (the directory is gone, a file is unreadable) keeps the last snapshot
 * and is reported through `onError`; on the first load it makes `start` reject.
 */
export interface DirectoryPolicySourceOptions {
  readonly directory: string;
  /** Quiet time after a change before rescanning. Default 100 ms (debounce.ts). */
  readonly debounceMs?: number;
  /** Longest a rescan waits while changes keep coming. Default 1 s. */
  readonly maxDelayMs?: number;
  /** Periodic rescan (fs.watch misses changes on some filesystems). Default 30 s; 0 disables. */
  readonly rescanIntervalMs?: number;
  /** Largest manifest file read. Default 1 MiB. */
  readonly maxFileBytes?: number;
  /** Use fs.watch (default true); false leaves change detection to the periodic rescan. */
  readonly watch?: boolean;
  /** Most manifest files read. Default 1000. */
  readonly maxFiles?: number;
  /** Namespace of namespaced resources that name none. Default `default`, as kubectl. */
  readonly defaultNamespace?: string;
  readonly certificateCache?: CertificateCache;
  /** Reading failures (the last good snapshot stays in force) and errors thrown by onSnapshot. */
  readonly onError?: (error: PortcullisError) => void;
  /**
   * Every object read (before the snapshot is built), e.g. for the pull-secret resolver to find docker-config Secrets.
   */
  readonly onObjects?: (objects: readonly unknown[]) => void;
  /**
   * Namespace objects from elsewhere (the cluster's, for `audit`/`explain --policies DIR
   * --kubeconfig`), so that `namespaceSelector`s see the labels namespaces really have. One the
   * directory defines itself (same name) wins.
   */
  readonly namespaces?: readonly unknown[];
}

export const DEFAULT_RESCAN_INTERVAL_MS = 30_000;
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_FILES = 1000;

const EXTENSIONS = ['.yaml', '.yml', '.json'];

interface ScannedFile {
  readonly path: string;
  /** Relative to the directory, with `/` separators. */
  readonly relative: string;
}

interface Scan {
  readonly fingerprint: string;
  readonly objects: unknown[];
  readonly origins: string[];
  readonly sourceErrors: InvalidResource[];
  readonly directories: string[];
}

function blocking(relativePath: string, reason: string, code: string): InvalidResource {
  return {
    id: { kind: 'File', name: relativePath },
    reason,
    code,
    source: relativePath,
    blocks: { kind: 'all' },
    enforcementAction: 'deny',
  };
}

export class DirectoryPolicySource implements PolicySource {
  readonly #directory: string;
  readonly #rescanMs: number;
  readonly #useWatch: boolean;
  readonly #maxFileBytes: number;
  readonly #maxFiles: number;
  readonly #onError: (error: PortcullisError) => void;
  readonly #onObjects: ((objects: readonly unknown[]) => void) | undefined;
  readonly #namespaces: readonly unknown[];
  readonly #feed: SnapshotFeed;
  readonly #debounce: Debounce;

  #watchers = new Map<string, FSWatcher>();
  #interval: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(options: DirectoryPolicySourceOptions) {
    this.#directory = options.directory;
    this.#rescanMs = options.rescanIntervalMs ?? DEFAULT_RESCAN_INTERVAL_MS;
    this.#useWatch = options.watch ?? true;
    this.#maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.#maxFiles = options.maxFiles ?? DEFAULT_MAX_FILES;
    this.#onError = options.onError ?? (() => undefined);
    this.#onObjects = options.onObjects;
    this.#namespaces = options.namespaces ?? [];
    this.#feed = new SnapshotFeed({
      certificateCache: options.certificateCache ?? new CertificateCache(),
      defaultNamespace: options.defaultNamespace ?? 'default',
      onError: this.#onError,
    });
    this.#debounce = new Debounce(() => this.#trigger(), options);
  }

  /** The snapshot in force, or undefined before the first load. */
  current(): PolicySnapshot | undefined {
    return this.#feed.current();
  }

  /**
   * Loads the directory (the first snapshot is passed to onSnapshot before this resolves), then
   * watches it. Rejects with ERR_CONFIG_INVALID when the directory cannot be read.
   */
  async start(onSnapshot: (snapshot: PolicySnapshot) => void): Promise<void> {
    if (this.#feed.subscribed)
      throw new PortcullisError('ERR_INTERNAL', 'DirectoryPolicySource.start was called twice');
    this.#feed.subscribe(onSnapshot);
    this.#stopped = false;
    let scan: Scan;
    try {
      scan = await this.#scan();
    } catch (error) {
      this.#feed.subscribe(undefined); // start may be retried
      throw error;
    }
    this.#apply(scan);
    this.#watch(scan.directories);
    if (this.#rescanMs > 0) {
      this.#interval = setInterval(() => this.#trigger(), this.#rescanMs);
      this.#interval.unref();
    }
  }

  /** Rescans now (also what a change notification does after the debounce). */
  async reload(): Promise<void> {
    this.#trigger();
    while (this.#running !== undefined) await this.#running;
  }

  /** Stops watching; waits for a scan in progress. The last snapshot stays readable. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#debounce.cancel();
    if (this.#interval !== undefined) clearInterval(this.#interval);
    this.#interval = undefined;
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
    while (this.#running !== undefined) await this.#running;
    this.#feed.subscribe(undefined);
  }

  #schedule(): void {
    if (!this.#stopped) this.#debounce.schedule();
  }

  /** Runs one scan at a time; a trigger during a scan runs one more afterwards. */
  #trigger(): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      try {
        const scan = await this.#scan();
        if (!this.#stopped) {
          this.#apply(scan);
          this.#watch(scan.directories);
        }
      } catch (error) {
        this.#onError(
          error instanceof PortcullisError
            ? error
            : new PortcullisError('ERR_INTERNAL', `policy directory scan failed: ${String(error)}`, { cause: error }),
        );
      }
    })().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.#trigger();
      }
    });
  }

  #apply(scan: Scan): void {
    if (!this.#feed.changed(scan.fingerprint)) return;
    this.#onObjects?.(scan.objects);
    this.#feed.offer({
      fingerprint: scan.fingerprint,
      resources: scan.objects,
      origins: scan.origins,
      sourceErrors: scan.sourceErrors,
    });
  }

  #watch(directories: readonly string[]): void {
    if (this.#stopped || !this.#useWatch) return;
    const wanted = new Set(directories);
    for (const [dir, watcher] of this.#watchers) {
      if (!wanted.has(dir)) {
        watcher.close();
        this.#watchers.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (this.#watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, () => this.#schedule());
        // A watcher that fails (directory removed, inotify limit) is dropped; the periodic
        // rescan still sees changes, and the next scan re-creates watchers for what exists.
        watcher.on('error', () => {
          watcher.close();
          if (this.#watchers.get(dir) === watcher) this.#watchers.delete(dir);
          this.#schedule();
        });
        this.#watchers.set(dir, watcher);
      } catch {
        // Same fallback as above.
      }
    }
  }

  async #scan(): Promise<Scan> {
    const files: ScannedFile[] = [];
    const directories: string[] = [];
    await this.#walk(this.#directory, files, directories, true);
    files.sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0));

    const hash = new Fingerprint();
    const objects: unknown[] = [];
    const origins: string[] = [];
    const sourceErrors: InvalidResource[] = [];
    if (files.length > this.#maxFiles) {
      const first = files[this.#maxFiles] as ScannedFile;
      sourceErrors.push(
        blocking(
          '.',
          `the policy directory holds ${files.length} manifest files, more than the limit of ${this.#maxFiles}; ${first.relative} and the ${files.length - this.#maxFiles - 1} files after it (in path order) were not read`,
          'ERR_SIZE_LIMIT',
        ),
      );
      hash.add('count', files.length);
      files.length = this.#maxFiles;
    }
    for (const file of files) {
      let bytes: Buffer;
      try {
        const info = await stat(file.path);
        if (!info.isFile()) continue;
        if (info.size > this.#maxFileBytes) {
          sourceErrors.push(
            blocking(
              file.relative,
              `the file is ${info.size} bytes, more than the limit of ${this.#maxFileBytes}; it was not read`,
              'ERR_SIZE_LIMIT',
            ),
          );
          hash.add('big', file.relative, info.size, info.mtimeMs);
          continue;
        }
        bytes = await readFile(file.path);
      } catch (error) {
        // Deleted between listing and reading: the next scan sees the new state.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new PortcullisError(
          'ERR_CONFIG_INVALID',
          `cannot read policy file ${file.path}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      if (bytes.length > this.#maxFileBytes) {
        sourceErrors.push(
          blocking(
            file.relative,
            `the file is more than the limit of ${this.#maxFileBytes} bytes; it was not read`,
            'ERR_SIZE_LIMIT',
          ),
        );
        hash.add('big', file.relative, bytes.length);
        continue;
      }
      hash.add('file', file.relative, bytes.length, bytes);
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        sourceErrors.push(blocking(file.relative, 'the file is not valid UTF-8', 'ERR_RESOURCE_INVALID'));
        continue;
      }
      const result = parseManifests(text);
      if ('error' in result) {
        sourceErrors.push(blocking(file.relative, result.error, 'ERR_RESOURCE_INVALID'));
        continue;
      }
      for (const object of result.objects) {
        objects.push(object);
        origins.push(file.relative);
      }
    }
    const defined = new Set(objects.filter(isNamespace).map((o) => o.metadata.name));
    for (const ns of this.#namespaces) {
      if (!isNamespace(ns) || defined.has(ns.metadata.name)) continue;
      objects.push(ns);
      origins.push(`(cluster) Namespace ${ns.metadata.name}`);
    }
    return { fingerprint: hash.digest(), objects, origins, sourceErrors, directories };
  }

  async #walk(dir: string, files: ScannedFile[], directories: string[], root: boolean): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (!root && (error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new PortcullisError(
        'ERR_CONFIG_INVALID',
        `cannot read policy directory ${dir}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    directories.push(dir);
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        await this.#walk(path, files, directories, false);
        continue;
      }
      if (!EXTENSIONS.some((ext) => entry.name.endsWith(ext))) continue;
      if (entry.isFile() || entry.isSymbolicLink()) {
        files.push({ path, relative: relative(this.#directory, path).split(sep).join('/') });
      }
    }
  }
}

function isNamespace(o: unknown): o is { kind: 'Namespace'; metadata: { name: string } } {
  if (typeof o !== 'object' || o === null) return false;
  const r = o as { kind?: unknown; metadata?: { name?: unknown } };
  return r.kind === 'Namespace' && typeof r.metadata?.name === 'string';
}
