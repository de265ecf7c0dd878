import type { Descriptor } from '../oci/index.js';
import type { OciLayout, OciLayoutWriter } from '../layout/index.js';
import type { ContentSource, ContentTarget } from './endpoint.js';

/** An OCI image layout read as the source of a copy. */
export class LayoutSource implements ContentSource {
  readonly name: string;

  constructor(readonly layout: OciLayout) {
    this.name = `oci-layout ${layout.dir}`;
  }

  fetchManifest(descriptor: Descriptor): Promise<Uint8Array> {
    return this.layout.fetchManifest(descriptor);
  }

  openBlob(descriptor: Descriptor): AsyncIterable<Uint8Array> {
    return this.layout.openBlob(descriptor);
  }

  listReferrers(subject: Descriptor): Promise<Descriptor[]> {
    return this.layout.listReferrers(subject);
  }
}

/** An OCI image layout written as the target of a copy (created when missing). */
export class LayoutTarget implements ContentTarget {
  readonly name: string;

  constructor(readonly writer: OciLayoutWriter) {
    this.name = `oci-layout ${writer.dir}`;
  }

  hasManifest(descriptor: Descriptor): Promise<boolean> {
    return this.writer.hasBlob(descriptor);
  }

  async resolveTag(tag: string): Promise<Descriptor | undefined> {
    return this.writer.tagged(tag);
  }

  hasBlob(descriptor: Descriptor): Promise<boolean> {
    return this.writer.hasBlob(descriptor);
  }

  async pushBlob(
    descriptor: Descriptor,
    content: AsyncIterable<Uint8Array>,
    onBytes: (n: number) => void,
  ): Promise<void> {
    await this.writer.writeBlob(descriptor, content, onBytes);
  }

  async pushManifest(
    bytes: Uint8Array,
    descriptor: Descriptor,
    options: { tag?: string; subject?: Descriptor },
  ): Promise<{ indexed: boolean }> {
    // A referrer is listed in index.json, which is how layout readers find it by its subject.
    await this.writer.putManifest(bytes, descriptor, {
      ...(options.tag === undefined ? {} : { tag: options.tag }),
      listed: options.subject !== undefined,
    });
    return { indexed: options.subject !== undefined };
  }

  async listsReferrer(_subject: Descriptor, referrer: Descriptor): Promise<boolean> {
    return this.writer.lists(referrer.digest);
  }

  async addReferrer(_subject: Descriptor, referrer: Descriptor): Promise<void> {
    // Already stored (it was skipped as present): listing it in index.json makes it discoverable.
    await this.writer.list(referrer);
  }
}
