import type { Descriptor } from '../oci/index.js';
import { parseDigest } from '../util/index.js';
import { repositoryScope } from './auth/authenticator.js';
import { checkSize, readVerified, statusError, streamVerified } from './body.js';
import type { RegistryConnection } from './connection.js';
import { operationError, printable, type Operation } from './operation.js';
import { discard, type HttpResponse } from './transport.js';
import { DEFAULT_BLOB_MAX_BYTES, type CallOptions, type RepositoryRef } from './types.js';

/** Blobs: fetching (capped, digest-checked), streaming and existence checks. Uploads: uploads.ts. */
export class BlobStore {
  readonly #c: RegistryConnection;

  constructor(connection: RegistryConnection) {
    this.#c = connection;
  }

  /** Blob bytes, streamed through the digest check and the cap (default the client's blob cap). */
  async fetchBlob(
    repo: RepositoryRef,
    descriptor: Descriptor,
    maxBytes?: number,
    call?: CallOptions,
  ): Promise<Uint8Array> {
    using op = this.#c.op(repo, `blob ${descriptor.digest}`, call, descriptor.digest);
    const cap = maxBytes ?? this.#c.options.maxBlobBytes ?? DEFAULT_BLOB_MAX_BYTES;
    checkSize(op, descriptor, cap, 'blob');
    const response = await this.getBlob(op, repo, descriptor);
    return await readVerified(op, response, descriptor, cap, 'blob', this.#c.bodies); // awaited: the deadline covers the body
  }

  /**
   * A blob as a stream (for copying large layers): no cap beyond the descriptor's size, the
   * digest checked as it streams; the final step throws ERR_DIGEST_MISMATCH on bad content.
   * The request is sent when iteration starts. Give a longer `timeoutMs` for large blobs.
   */
  openBlob(repo: RepositoryRef, descriptor: Descriptor, call?: CallOptions): AsyncIterable<Uint8Array> {
    const start = (): Operation => this.#c.op(repo, `blob ${descriptor.digest}`, call, descriptor.digest);
    const get = (op: Operation): Promise<HttpResponse> => this.getBlob(op, repo, descriptor);
    return {
      async *[Symbol.asyncIterator]() {
        using op = start(); // ends when the stream does (finished, failed or abandoned)
        yield* streamVerified(op, await get(op), descriptor);
      },
    };
  }

  async getBlob(op: Operation, repo: RepositoryRef, descriptor: Descriptor): Promise<HttpResponse> {
    if (parseDigest(descriptor.digest) === undefined)
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(descriptor.digest)}" is not a supported digest`);
    const response = await this.#c.send(op, [repositoryScope(repo.repository)], {
      method: 'GET',
      url: this.#c.url(repo, `blobs/${descriptor.digest}`),
      followRedirects: true,
    });
    if (response.status !== 200) throw await statusError(op, response, `blob ${descriptor.digest} not found`);
    return response;
  }

  /** Whether the repository has the blob (HEAD; write path only). */
  async blobExists(repo: RepositoryRef, descriptor: Descriptor, call?: CallOptions): Promise<boolean> {
    using op = this.#c.op(repo, `check blob ${descriptor.digest}`, call, descriptor.digest);
    const response = await this.#c.send(op, [repositoryScope(repo.repository)], {
      method: 'HEAD',
      url: this.#c.url(repo, `blobs/${descriptor.digest}`),
      followRedirects: true,
    });
    await discard(response);
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw await statusError(op, response);
  }
}
