import { describe, expect, it } from 'vitest';
import { requestCounts, sequentialRoundTrips } from './request-log.js';

const at = (start: number, end: number) => ({ start, end });

describe('sequentialRoundTrips', () => {
  it('counts requests in flight together once, and each one sent after an answer as a further round trip', () => {
    expect(sequentialRoundTrips([])).toBe(0);
    expect(sequentialRoundTrips([at(0, 50)])).toBe(1);
    // HEAD, then referrers, then two manifests together, then two blobs together.
    expect(sequentialRoundTrips([at(0, 50), at(51, 100), at(101, 150), at(101, 152), at(151, 200), at(153, 203)])).toBe(
      4,
    );
    // HEAD and referrers together, then manifest, then blob.
    expect(sequentialRoundTrips([at(0, 50), at(0, 50), at(50, 100), at(100, 150)])).toBe(3);
  });

  it('follows the longest chain, not the number of requests or their order in the log', () => {
    expect(sequentialRoundTrips([at(200, 250), at(0, 300), at(100, 150), at(0, 90)])).toBe(3);
  });
});

describe('requestCounts', () => {
  it('counts statuses, distinct objects answered 2xx and objects fetched again', () => {
    const counts = requestCounts([
      { method: 'HEAD', path: '/v2/a/manifests/v1', status: 200 },
      { method: 'GET', path: '/v2/a/manifests/v1', status: 200 },
      { method: 'GET', path: '/v2/a/blobs/sha256:1', status: 429 },
      { method: 'GET', path: '/v2/a/blobs/sha256:1', status: 200 },
      { method: 'GET', path: '/v2/a/blobs/sha256:1', status: 200 },
      { method: 'GET', path: '/v2/a/blobs/sha256:1', status: 200 },
      { method: 'GET', path: '/v2/a/referrers/sha256:1', status: 404 },
    ]);
    expect(counts.total).toBe(7);
    expect(counts.byStatus).toEqual({ 200: 5, 404: 1, 429: 1 });
    expect(counts.objects).toBe(3);
    expect(counts.refetched).toBe(2);
    expect(counts.worst).toEqual({ request: 'GET /v2/a/blobs/sha256:1', times: 3 });
  });

  it('reports no refetch when every object came once', () => {
    const counts = requestCounts([
      { method: 'GET', path: '/x', status: 200 },
      { method: 'GET', path: '/x', status: 429 },
    ]);
    expect(counts.refetched).toBe(0);
    expect(counts.worst).toBeUndefined();
  });
});
