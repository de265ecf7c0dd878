import { createHash, randomUUID } from 'node:crypto';

/**
 * The in-memory state behind ReferrersRegistry: per-repository blobs, manifests, tags and referrers,
 * plus upload sessions. No HTTP here; the server maps these results onto distribution responses.
 * Repositories are separate namespaces so cross-repository mount means something.
 */

export const MANIFEST_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
]);
export const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

export interface StoredManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Uint8Array;
  readonly artifactType: string | undefined;
  readonly annotations: Record<string, string> | undefined;
  readonly subject: string | undefined;
}

export interface Repository {
  readonly blobs: Map<string, Uint8Array>;
  readonly manifests: Map<string, StoredManifest>;
  readonly tags: Map<string, string>;
  /** subject digest → referrer manifest digests, oldest first. */
  readonly referrers: Map<string, string[]>;
}

export interface Upload {
  readonly repo: string;
  chunks: Buffer[];
  size: number;
}

/** A distribution-style failure: HTTP status, error code, message, optional detail. */
export class StoreError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
  }
}

const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export function isDigest(ref: string): boolean {
  return DIGEST.test(ref);
}

export function computeDigest(bytes: Uint8Array, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

function checkDigest(expected: string | null | undefined, bytes: Uint8Array): string {
  if (expected === null || expected === undefined || !isDigest(expected)) {
    throw new StoreError(400, 'DIGEST_INVALID', 'provided digest is missing or malformed', expected ?? undefined);
  }
  const actual = computeDigest(bytes, expected.slice(0, expected.indexOf(':')));
  if (actual !== expected)
    throw new StoreError(400, 'DIGEST_INVALID', 'provided digest did not match uploaded content', { expected, actual });
  return actual;
}

export class MemoryStore {
  readonly #repos = new Map<string, Repository>();
  readonly #uploads = new Map<string, Upload>();

  repo(name: string): Repository | undefined {
    return this.#repos.get(name);
  }

  #repoForWrite(name: string): Repository {
    let repo = this.#repos.get(name);
    if (repo === undefined) {
      repo = { blobs: new Map(), manifests: new Map(), tags: new Map(), referrers: new Map() };
      this.#repos.set(name, repo);
    }
    return repo;
  }

  /** Any repository's copy: backs the /blobdata/ redirect target. */
  findBlob(digest: string): Uint8Array | undefined {
    for (const repo of this.#repos.values()) {
      const bytes = repo.blobs.get(digest);
      if (bytes !== undefined) return bytes;
    }
    return undefined;
  }

  putBlob(name: string, expectedDigest: string | null, bytes: Uint8Array): string {
    const digest = checkDigest(expectedDigest, bytes);
    this.#repoForWrite(name).blobs.set(digest, bytes);
    return digest;
  }

  /** Cross-repository mount; false when `from` does not hold the blob. */
  mount(name: string, digest: string, from: string): boolean {
    const bytes = this.#repos.get(from)?.blobs.get(digest);
    if (bytes === undefined) return false;
    this.#repoForWrite(name).blobs.set(digest, bytes);
    return true;
  }

  deleteBlob(name: string, digest: string): boolean {
    return this.#repos.get(name)?.blobs.delete(digest) ?? false;
  }

  startUpload(name: string): string {
    const id = randomUUID();
    this.#uploads.set(id, { repo: name, chunks: [], size: 0 });
    return id;
  }

  upload(name: string, id: string): Upload {
    const upload = this.#uploads.get(id);
    if (upload === undefined || upload.repo !== name)
      throw new StoreError(404, 'BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', id);
    return upload;
  }

  /** Appends a chunk; `range` is the request's Content-Range (`start-end`), checked against the offset. */
  appendUpload(name: string, id: string, chunk: Buffer, range: string | undefined): Upload {
    const upload = this.upload(name, id);
    if (range !== undefined) {
      const m = /^(?:bytes )?(\d+)-(\d+)$/.exec(range.trim());
      if (m === null) throw new StoreError(400, 'BLOB_UPLOAD_INVALID', `malformed Content-Range ${range}`);
      const start = Number(m[1]);
      const end = Number(m[2]);
      if (start !== upload.size)
        throw new StoreError(416, 'BLOB_UPLOAD_INVALID', `chunk starts at ${start}, upload is at ${upload.size}`);
      if (end - start + 1 !== chunk.length)
        throw new StoreError(400, 'BLOB_UPLOAD_INVALID', `Content-Range ${range} does not match ${chunk.length} bytes`);
    }
    upload.chunks.push(chunk);
    upload.size += chunk.length;
    return upload;
  }

  /** Appends the last chunk and stores the blob; a wrong digest also ends the session. */
  finishUpload(name: string, id: string, chunk: Buffer, digest: string | null): string {
    const upload = this.appendUpload(name, id, chunk, undefined);
    this.#uploads.delete(id);
    return this.putBlob(name, digest, Buffer.concat(upload.chunks));
  }

  cancelUpload(name: string, id: string): void {
    this.upload(name, id);
    this.#uploads.delete(id);
  }

  resolve(name: string, reference: string): StoredManifest | undefined {
    const repo = this.#repos.get(name);
    if (repo === undefined) return undefined;
    const digest = isDigest(reference) ? reference : repo.tags.get(reference);
    return digest === undefined ? undefined : repo.manifests.get(digest);
  }

  /** Validates and stores a manifest the way distribution does, plus subject bookkeeping. */
  putManifest(name: string, reference: string, contentType: string | undefined, bytes: Uint8Array): StoredManifest {
    let json: Record<string, any>;
    try {
      json = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, any>;
    } catch {
      throw new StoreError(400, 'MANIFEST_INVALID', 'manifest invalid: not JSON');
    }
    if (typeof json !== 'object' || json === null || json.schemaVersion !== 2)
      throw new StoreError(400, 'MANIFEST_INVALID', 'manifest invalid: schemaVersion must be 2');
    const declared = typeof json.mediaType === 'string' ? json.mediaType : undefined;
    if (declared !== undefined && contentType !== undefined && declared !== contentType) {
      throw new StoreError(
        400,
        'MANIFEST_INVALID',
        `manifest invalid: mediaType ${declared} but Content-Type ${contentType}`,
      );
    }
    const mediaType = contentType ?? declared;
    if (mediaType === undefined || (!MANIFEST_TYPES.has(mediaType) && !INDEX_TYPES.has(mediaType))) {
      throw new StoreError(400, 'MANIFEST_INVALID', `manifest invalid: unsupported media type ${String(mediaType)}`);
    }
    const digest = isDigest(reference) ? checkDigest(reference, bytes) : computeDigest(bytes);
    const repo = this.#repoForWrite(name);
    const isIndex = INDEX_TYPES.has(mediaType);
    const children: unknown[] = isIndex ? asArray(json.manifests) : [json.config, ...asArray(json.layers)];
    const missing = children
      .map((d) => (typeof d === 'object' && d !== null ? (d as { digest?: unknown }).digest : undefined))
      .filter((d) => typeof d !== 'string' || !(isIndex ? repo.manifests.has(d) : repo.blobs.has(d)));
    if (missing.length > 0) throw new StoreError(400, 'MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', missing[0]);

    const subject = typeof json.subject?.digest === 'string' ? (json.subject.digest as string) : undefined;
    const artifactType =
      typeof json.artifactType === 'string'
        ? json.artifactType
        : !isIndex && typeof json.config?.mediaType === 'string'
          ? (json.config.mediaType as string)
          : undefined;
    const annotations =
      typeof json.annotations === 'object' && json.annotations !== null
        ? (json.annotations as Record<string, string>)
        : undefined;
    const stored: StoredManifest = { digest, mediaType, bytes, artifactType, annotations, subject };
    repo.manifests.set(digest, stored);
    if (!isDigest(reference)) repo.tags.set(reference, digest);
    if (subject !== undefined) {
      const list = repo.referrers.get(subject) ?? [];
      if (!list.includes(digest)) list.push(digest);
      repo.referrers.set(subject, list);
    }
    return stored;
  }

  /** By digest: the manifest, its tags and its referrer entry. By tag: only the tag. */
  deleteManifest(name: string, reference: string): boolean {
    const repo = this.#repos.get(name);
    if (repo === undefined) return false;
    if (!isDigest(reference)) return repo.tags.delete(reference);
    const stored = repo.manifests.get(reference);
    if (stored === undefined) return false;
    repo.manifests.delete(reference);
    for (const [tag, digest] of repo.tags) if (digest === reference) repo.tags.delete(tag);
    if (stored.subject !== undefined) {
      const list = repo.referrers.get(stored.subject)?.filter((d) => d !== reference) ?? [];
      repo.referrers.set(stored.subject, list);
    }
    return true;
  }

  /** Referrers of `subject` still present, oldest first. */
  referrers(name: string, subject: string): StoredManifest[] {
    const repo = this.#repos.get(name);
    if (repo === undefined) return [];
    return (repo.referrers.get(subject) ?? []).flatMap((d) => repo.manifests.get(d) ?? []);
  }
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
