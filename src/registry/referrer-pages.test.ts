import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributionRegistry } from '../../test/helpers/registry/distribution.js';
import { ReferrersRegistry } from '../../test/helpers/registry/referrers-registry.js';
import { pushImage, pushReferrer } from '../../test/helpers/registry/seed.js';
import type { Descriptor } from '../oci/index.js';
import { RegistryClient } from './client.js';
import type { ReferrersCursor, ReferrersPage } from './types.js';

/** `listReferrersPage`: one Referrers API page per call, with a cursor to the next, checked. */

const TYPE = 'application/vnd.example.sbom';
let registry: ReferrersRegistry;
let client: RegistryClient;
let subject: Descriptor;
let referrers: Descriptor[];
const repo = (): { registry: string; repository: string } => ({ registry: registry.host, repository: 'app' });

beforeAll(async () => {
  registry = await ReferrersRegistry.start({ pageSize: 2 });
  client = new RegistryClient();
  const pushed = await pushImage(client, repo(), 'v1', 'paged');
  subject = await client.resolve({ ...repo(), digest: pushed.digest });
  referrers = [];
  for (let i = 0; i < 5; i++) referrers.push(await pushReferrer(client, repo(), subject, TYPE, `sbom ${i}`));
});
afterAll(async () => {
  await client?.close();
  await registry?.stop();
});

describe('listReferrersPage', () => {
  it('gives one page per request and a cursor to the next, until the last', async () => {
    registry.resetLog();
    const pages: ReferrersPage[] = [];
    let cursor: ReferrersCursor | undefined;
    do {
      const page = await client.listReferrersPage(repo(), subject, { artifactType: TYPE }, cursor);
      pages.push(page);
      cursor = page.next;
    } while (cursor !== undefined);
    expect(pages.map((p) => p.descriptors.length)).toEqual([2, 2, 1]);
    expect(pages.map((p) => p.next?.page)).toEqual([2, 3, undefined]);
    expect(pages.flatMap((p) => p.descriptors.map((d) => d.digest))).toEqual(referrers.map((d) => d.digest));
    expect(registry.log.filter((l) => l.path.includes('/referrers/'))).toHaveLength(3);
    // listReferrers is the same pages, concatenated.
    expect(await client.listReferrers(repo(), subject, { artifactType: TYPE })).toEqual(
      pages.flatMap((p) => p.descriptors),
    );
  });

  it('gives the signature source its pages one request at a time', async () => {
    registry.resetLog();
    const source = client.signatureSource(repo());
    const pages = (source.signaturePages as NonNullable<typeof source.signaturePages>)(subject);
    const first = await pages[Symbol.asyncIterator]().next();
    expect(first.done).toBe(false);
    expect(registry.log.filter((l) => l.path.includes('/referrers/'))).toHaveLength(1);
  });

  it('refuses a cursor of another origin or a page number it cannot have made', async () => {
    for (const cursor of [
      { url: `http://127.0.0.2:1/v2/app/referrers/${subject.digest}`, page: 2 },
      { url: `${registry.url}/v2/app/referrers/${subject.digest}`, page: 1 },
      { url: 'not a url', page: 2 },
    ]) {
      await expect(client.listReferrersPage(repo(), subject, {}, cursor)).rejects.toMatchObject({
        code: 'ERR_INPUT_INVALID',
      });
    }
  });

  it('keeps the page cap: the page past it that links on fails', async () => {
    const capped = new RegistryClient({ maxReferrerPages: 2 });
    try {
      const first = await capped.listReferrersPage(repo(), subject, {}, undefined);
      await expect(capped.listReferrersPage(repo(), subject, {}, first.next)).rejects.toMatchObject({
        code: 'ERR_REGISTRY_RESPONSE',
        message: expect.stringContaining('more than 2 pages'),
      });
    } finally {
      await capped.close();
    }
  });

  it("gives the tag schema (Debian's docker-registry, no Referrers API) as one page, with no cursor", async () => {
    const distribution = await DistributionRegistry.start();
    const c = new RegistryClient();
    try {
      const where = { registry: distribution.host, repository: 'app' };
      const pushed = await pushImage(c, where, 'v1', 'tag-schema');
      const image = await c.resolve({ ...where, digest: pushed.digest });
      const listed: Descriptor[] = [];
      for (let i = 0; i < 3; i++) listed.push(await pushReferrer(c, where, image, TYPE, `sbom ${i}`));
      const page = await c.listReferrersPage(where, image, { artifactType: TYPE }, undefined);
      expect(page.next).toBeUndefined();
      expect(page.descriptors.map((d) => d.digest)).toEqual(listed.map((d) => d.digest));
    } finally {
      await c.close();
      await distribution.stop();
    }
  });
});
