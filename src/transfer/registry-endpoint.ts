import { isPortcullisError } from '../errors/index.js';
import type { Descriptor } from '../oci/index.js';
import type { CallOptions, RegistryClient, RepositoryRef } from '../registry/index.js';
import type { ContentSource, ContentTarget } from './endpoint.js';

/** Counts the bytes of a stream as they pass (byte-accurate progress). */
export async function* counting(
  source: AsyncIterable<Uint8Array>,
  onBytes: (n: number) => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    onBytes(chunk.length);
    yield chunk;
  }
}

/**
 * A repository of a registry as either end of a copy. Every call is one registry operation
 * with the client's deadline (`--timeout`), blob transfers included.
 */
export class RegistryEndpoint implements ContentSource, ContentTarget {
  readonly name: string;

  readonly repo: RepositoryRef;

  constructor(
    readonly client: RegistryClient,
    repo: RepositoryRef,
    private readonly call: CallOptions = {},
  ) {
    // Only the repository: a reference's tag or digest must not leak into later lookups.
    this.repo = { registry: repo.registry, repository: repo.repository };
    this.name = `${repo.registry}/${repo.repository}`;
  }

  async fetchManifest(descriptor: Descriptor): Promise<Uint8Array> {
    return (await this.client.fetchManifest(this.repo, descriptor, this.call)).bytes;
  }

  openBlob(descriptor: Descriptor): AsyncIterable<Uint8Array> {
    return this.client.openBlob(this.repo, descriptor, this.call);
  }

  listReferrers(subject: Descriptor): Promise<Descriptor[]> {
    return this.client.listReferrers(this.repo, subject, {}, this.call);
  }

  async #resolve(ref: { tag: string } | { digest: string }): Promise<Descriptor | undefined> {
    try {
      return await this.client.resolve({ ...this.repo, ...ref }, this.call);
    } catch (error) {
      if (isPortcullisError(error) && error.code === 'ERR_REGISTRY_NOT_FOUND') return undefined;
      throw error;
    }
  }

  async hasManifest(descriptor: Descriptor): Promise<boolean> {
    return (await this.#resolve({ digest: descriptor.digest })) !== undefined;
  }

  resolveTag(tag: string): Promise<Descriptor | undefined> {
    return this.#resolve({ tag });
  }

  hasBlob(descriptor: Descriptor): Promise<boolean> {
    return this.client.blobExists(this.repo, descriptor, this.call);
  }

  async mountFrom(
    source: ContentSource,
    descriptor: Descriptor,
    onBytes: (n: number) => void,
  ): Promise<{ mounted: boolean } | undefined> {
    // A mount needs the same registry, and the same client (its credentials serve both repositories).
    if (
      !(source instanceof RegistryEndpoint) ||
      source.client !== this.client ||
      source.repo.registry !== this.repo.registry ||
      source.repo.repository === this.repo.repository
    )
      return undefined;
    const { mounted } = await this.client.mountBlob(this.repo, source.repo.repository, descriptor, this.call);
    if (!mounted) onBytes(descriptor.size);
    return { mounted };
  }

  async pushBlob(
    descriptor: Descriptor,
    content: AsyncIterable<Uint8Array>,
    onBytes: (n: number) => void,
  ): Promise<void> {
    await this.client.pushBlob(this.repo, counting(content, onBytes), descriptor, this.call);
  }

  async pushManifest(
    bytes: Uint8Array,
    descriptor: Descriptor,
    options: { tag?: string; subject?: Descriptor },
  ): Promise<{ indexed: boolean }> {
    const pushed = await this.client.pushManifest(
      this.repo,
      options.tag ?? descriptor.digest,
      bytes,
      descriptor.mediaType,
      this.call,
    );
    return { indexed: pushed.subjectProcessed };
  }

  async listsReferrer(subject: Descriptor, referrer: Descriptor): Promise<boolean> {
    return (await this.client.listReferrers(this.repo, subject, {}, this.call)).some(
      (d) => d.digest === referrer.digest,
    );
  }

  async addReferrer(subject: Descriptor, referrer: Descriptor): Promise<void> {
    await this.client.addReferrer(this.repo, subject, referrer, this.call);
  }
}
