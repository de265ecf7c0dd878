import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributionRegistry } from '../../test/helpers/registry/distribution.js';
import { ReferrersRegistry } from '../../test/helpers/registry/referrers-registry.js';
import { pushImage, pushReferrer } from '../../test/helpers/registry/seed.js';
import type { Descriptor } from '../oci/descriptor.js';
import { MEDIA_TYPE } from '../oci/media-types.js';
import { StaticCredentials } from './auth/credentials.js';
import { RegistryClient } from './client.js';
import type { RequestInfo } from './transport.js';

// A burst of cold requests to a registry asks what it does once, not once per request: its
// auth scheme (one 401, not one each) and whether it has the Referrers API (one 404, not one each).

const IMAGES = 8;

describe('first contact with a token-auth registry (distribution 2.8)', () => {
  let registry: DistributionRegistry;
  const credentials = (): StaticCredentials =>
    new StaticCredentials({ [registry.host]: { username: 'alice', password: 'wonderland' } });
  beforeAll(async () => {
    registry = await DistributionRegistry.start({ auth: 'token' });
    const seeding = new RegistryClient({ credentials: credentials() });
    for (let i = 0; i < IMAGES; i++)
      await pushImage(seeding, { registry: registry.host, repository: `burst/app-${i}` }, 'v1');
    await seeding.close();
  });
  afterAll(async () => registry.stop());

  it('collects one 401 for a burst of requests to repositories it has not seen, then one token for the rest', async () => {
    const requests: RequestInfo[] = [];
    const client = new RegistryClient({ credentials: credentials(), onRequest: (i) => requests.push(i) });
    try {
      const resolved = await Promise.all(
        Array.from({ length: IMAGES }, (_, i) =>
          client.resolve({ registry: registry.host, repository: `burst/app-${i}`, tag: 'v1' }),
        ),
      );
      expect(resolved.every((d) => d.digest.startsWith('sha256:'))).toBe(true);
      const toRegistry = requests.filter((r) => r.host === registry.host);
      expect(toRegistry.filter((r) => r.status === 401)).toHaveLength(1);
      expect(toRegistry.filter((r) => r.status === 200)).toHaveLength(IMAGES);
      // Two token requests: the first request's (answering the 401), and one for the other
      // repositories together, whose token serves each of them.
      const tokens = requests.filter((r) => r.host !== registry.host);
      expect(tokens.map((r) => r.status)).toEqual([200, 200]);
      expect(tokens[1]?.path.match(/scope=/g)).toHaveLength(IMAGES - 1);
    } finally {
      await client.close();
    }
  });
});

describe('first contact with registries with and without the Referrers API', () => {
  let tagSchema: ReferrersRegistry;
  let api: ReferrersRegistry;
  const subjects = new Map<string, Descriptor[]>();
  beforeAll(async () => {
    [tagSchema, api] = await Promise.all([ReferrersRegistry.start({ referrersApi: false }), ReferrersRegistry.start()]);
    const seeding = new RegistryClient();
    for (const registry of [tagSchema, api]) {
      const list: Descriptor[] = [];
      for (let i = 0; i < IMAGES; i++) {
        const repo = { registry: registry.host, repository: `burst/app-${i}` };
        const image = await pushImage(seeding, repo, 'v1');
        await pushReferrer(seeding, repo, image, MEDIA_TYPE.notarySignature, `signature ${i}`);
        list.push(image);
      }
      subjects.set(registry.host, list);
    }
    await seeding.close();
  });
  afterAll(async () => {
    await tagSchema.stop();
    await api.stop();
  });

  const listAll = async (client: RegistryClient, host: string): Promise<number[]> =>
    Promise.all(
      (subjects.get(host) as Descriptor[]).map(async (image, i) => {
        const listed = await client.listReferrers(
          { registry: host, repository: `burst/app-${i}` },
          { digest: image.digest },
          { artifactType: MEDIA_TYPE.notarySignature },
        );
        return listed.length;
      }),
    );

  it('asks a registry without the API once, and lists the rest through the tag schema', async () => {
    const requests: RequestInfo[] = [];
    const client = new RegistryClient({ onRequest: (i) => requests.push(i) });
    try {
      expect(await listAll(client, tagSchema.host)).toEqual(Array.from({ length: IMAGES }, () => 1));
      expect(requests.filter((r) => r.path.includes('/referrers/'))).toHaveLength(1);
      expect(requests.filter((r) => r.path.includes('/manifests/sha256-'))).toHaveLength(IMAGES);
    } finally {
      await client.close();
    }
  });

  it('uses the API of a registry that has it for every listing of the burst', async () => {
    const requests: RequestInfo[] = [];
    const client = new RegistryClient({ onRequest: (i) => requests.push(i) });
    try {
      expect(await listAll(client, api.host)).toEqual(Array.from({ length: IMAGES }, () => 1));
      expect(requests.filter((r) => r.path.includes('/referrers/') && r.status === 200)).toHaveLength(IMAGES);
      expect(requests).toHaveLength(IMAGES);
    } finally {
      await client.close();
    }
  });
});
