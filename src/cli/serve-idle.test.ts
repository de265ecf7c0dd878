import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServeConfig } from '../config/index.js';
import { DEFAULT_SERVE_CONFIG } from '../config/serve-config.js';
import { admissionReview, pod } from '../http/testing/reviews.js';
import { startWebhook, type RunningWebhook } from './serve.js';

// serve wires the idle collection (src/cli/idle-collector.ts, unit-tested there) to the reviews
// it answers: one collection after a burst once idle, counted in portcullis_idle_collections_total.

function call(server: RunningWebhook, path: string, body?: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json' },
        ca: readFileSync(server.devCaFile as string),
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const counter = async (server: RunningWebhook): Promise<number> =>
  Number(/^portcullis_idle_collections_total (\d+)$/m.exec(await call(server, '/metrics'))?.[1] ?? NaN);

const review = (i: number) =>
  admissionReview(pod({ containers: [['app', `registry.invalid/app@sha256:${String(i).padStart(64, '0')}`]] }, 'ns'), {
    namespace: 'ns',
  });

describe('serve: the idle collection after a burst of reviews', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function serve(
    memory: ServeConfig['memory'],
  ): Promise<{ server: RunningWebhook; log: string; stop: () => Promise<void> }> {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-serve-idle-'));
    dirs.push(dir);
    // No policy covers namespace ns: its images are allowed without a registry (denyUnmatchedNamespaces false).
    writeFileSync(join(dir, 'empty.yaml'), '');
    const log = join(dir, 'log.jsonl');
    const fd = openSync(log, 'w');
    let server: RunningWebhook;
    try {
      server = await startWebhook({
        policies: dir,
        port: 0,
        host: '127.0.0.1',
        devCertDir: join(dir, 'cert'),
        config: {
          ...DEFAULT_SERVE_CONFIG,
          webhook: { ...DEFAULT_SERVE_CONFIG.webhook, shutdownDelaySeconds: 0 },
          logging: { level: 'info' },
          memory,
        },
        logFd: fd,
      });
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    const stop = async (): Promise<void> => {
      await server.stop(); // flushes the log
      closeSync(fd);
    };
    return { server, log, stop };
  }

  it('collects once after the burst, once idle; logs what it gave back', async () => {
    const { server, log, stop } = await serve({ idleCollectionSeconds: 0.3, idleCollectionMinReviews: 3 });
    try {
      expect(await counter(server)).toBe(0);
      for (let i = 0; i < 5; i++)
        expect(await call(server, '/validate?timeout=5s', review(i))).toContain('"allowed":true');
      expect(await counter(server)).toBe(0); // not on the review path
      await new Promise((r) => setTimeout(r, 1500));
      expect(await counter(server)).toBe(1);
      await new Promise((r) => setTimeout(r, 700)); // idle, no new reviews: no second one
      expect(await counter(server)).toBe(1);
    } finally {
      await stop();
    }
    const lines = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes('full garbage collection'))
      .map((l) => JSON.parse(l) as { rssMiB: number[]; heapUsedMiB: number[]; ms: number });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.rssMiB).toHaveLength(2);
    expect(lines[0]?.heapUsedMiB[1]).toBeLessThanOrEqual(lines[0]?.heapUsedMiB[0] as number);
  });

  it('never collects with memory.idleCollectionSeconds 0', async () => {
    const { server, stop } = await serve({ idleCollectionSeconds: 0, idleCollectionMinReviews: 1 });
    try {
      for (let i = 0; i < 5; i++) await call(server, '/validate?timeout=5s', review(i));
      await new Promise((r) => setTimeout(r, 1000));
      expect(await counter(server)).toBe(0);
    } finally {
      await stop();
    }
  });
});
