import type { Descriptor } from '../oci/index.js';
import { digestOf, parseDigest } from '../util/index.js';
import { repositoryScope } from './auth/authenticator.js';
import type { BlobStore } from './blobs.js';
import { statusError } from './body.js';
import { checkRepository, type RegistryConnection } from './connection.js';
import { operationError, printable, type Operation } from './operation.js';
import { discard, header, type HttpResponse } from './transport.js';
import { uploadBlob, type UploadOptions } from './upload.js';
import type { CallOptions, RepositoryRef } from './types.js';

/** Blob uploads: push (monolithic or chunked, upload.ts speaks the session protocol) and cross-repository mount. */
export class BlobUploads {
  readonly #c: RegistryConnection;
  readonly #blobs: BlobStore;

  constructor(connection: RegistryConnection, blobs: BlobStore) {
    this.#c = connection;
    this.#blobs = blobs;
  }

  /**
   * Uploads a blob: monolithic (POST, then PUT ?digest=) or, with `chunkSize`, chunked
   * (PATCH with Content-Range per chunk, then PUT ?digest=). Content may be bytes or a stream.
   */
  async pushBlob(
    repo: RepositoryRef,
    content: Uint8Array | AsyncIterable<Uint8Array>,
    descriptor: Descriptor,
    options: UploadOptions & CallOptions = {},
  ): Promise<Descriptor> {
    using op = this.#c.op(repo, `push blob ${descriptor.digest}`, options, descriptor.digest);
    if (parseDigest(descriptor.digest) === undefined)
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(descriptor.digest)}" is not a supported digest`);
    if (content instanceof Uint8Array) {
      if (
        content.length !== descriptor.size ||
        digestOf(content, parseDigest(descriptor.digest)?.algorithm) !== descriptor.digest
      ) {
        throw operationError(
          op,
          'ERR_DIGEST_MISMATCH',
          `the content to push does not match ${descriptor.digest} (${content.length} bytes, descriptor says ${descriptor.size})`,
        );
      }
    }
    const scopes = [repositoryScope(repo.repository, true)];
    const start = await this.#c.send(op, scopes, {
      method: 'POST',
      url: this.#c.url(repo, 'blobs/uploads/'),
      headers: { 'content-length': '0' },
    });
    if (start.status !== 202) throw await statusError(op, start);
    await discard(start);
    const location = this.#location(op, start, this.#c.url(repo, 'blobs/uploads/'));
    await uploadBlob(op, (request) => this.#c.send(op, scopes, request), location, content, descriptor, options);
    return descriptor;
  }

  /**
   * Mounts a blob from another repository of the same registry (201). When the registry
   * answers 202 instead (no mount), uploads it: streamed from `fromRepository`.
   */
  async mountBlob(
    repo: RepositoryRef,
    fromRepository: string,
    descriptor: Descriptor,
    call?: CallOptions,
  ): Promise<{ mounted: boolean }> {
    using op = this.#c.op(repo, `mount blob ${descriptor.digest} from ${fromRepository}`, call, descriptor.digest);
    checkRepository({ registry: repo.registry, repository: fromRepository });
    if (parseDigest(descriptor.digest) === undefined)
      throw operationError(op, 'ERR_DIGEST_INVALID', `"${printable(descriptor.digest)}" is not a supported digest`);
    const scopes = [repositoryScope(repo.repository, true), repositoryScope(fromRepository)];
    const url = this.#c.url(
      repo,
      `blobs/uploads/?mount=${encodeURIComponent(descriptor.digest)}&from=${encodeURIComponent(fromRepository)}`,
    );
    const response = await this.#c.send(op, scopes, { method: 'POST', url, headers: { 'content-length': '0' } });
    if (response.status === 201) {
      await discard(response);
      return { mounted: true };
    }
    if (response.status !== 202) throw await statusError(op, response);
    await discard(response);
    const location = this.#location(op, response, url);
    const content = this.#blobs.openBlob({ registry: repo.registry, repository: fromRepository }, descriptor, call);
    await uploadBlob(op, (request) => this.#c.send(op, scopes, request), location, content, descriptor, {});
    return { mounted: false };
  }

  #location(op: Operation, response: HttpResponse, base: URL): URL {
    const location = header(response.headers, 'location');
    if (location === undefined || location === '')
      throw operationError(op, 'ERR_REGISTRY_RESPONSE', `upload answer ${response.status} has no Location header`);
    try {
      return new URL(location, base);
    } catch (cause) {
      throw operationError(op, 'ERR_REGISTRY_RESPONSE', `upload Location "${printable(location)}" is not a URL`, cause);
    }
  }
}
