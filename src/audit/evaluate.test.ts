import { describe, expect, it } from 'vitest';
import type { ImageCheckRequest, ImageDecision } from '../executor/index.js';
import { evaluate } from './evaluate.js';
import type { AuditTarget } from './inventory.js';

const target = (namespace: string, name: string, image: string, pullSecretNames: string[] = []): AuditTarget => ({
  namespace,
  workload: { apiVersion: 'apps/v1', kind: 'Deployment', name },
  container: 'app',
  source: 'containers',
  image,
  pullSecretNames,
});

describe('audit evaluation with the engine', () => {
  it('asks each distinct question once, at most `concurrency` at a time, with the deadline and pull secrets', async () => {
    const asked: ImageCheckRequest[] = [];
    let running = 0;
    let most = 0;
    const verifier = {
      async check(request: ImageCheckRequest): Promise<ImageDecision> {
        asked.push(request);
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return {
          image: request.image,
          allowed: !request.image.includes('bad'),
          digest: 'sha256:1',
          verdicts: [],
          warnings: [],
          ...(request.image.includes('bad') ? { reason: 'bad' } : {}),
        };
      },
    };
    const progress: string[] = [];
    const rows = await evaluate(
      [
        target('a', 'web', 'r/web:1'),
        target('a', 'web2', 'r/web:1'), // the same question: asked once
        target('b', 'web', 'r/web:1'), // another namespace: another question
        target('a', 'priv', 'r/web:1', ['regcred']), // other credentials: another question
        target('a', 'x', 'r/bad:1'),
      ],
      {
        verifier,
        perImageTimeoutMs: 7000,
        concurrency: 2,
        now: () => 1000,
        onProgress: (d, t) => progress.push(`${d}/${t}`),
      },
    );
    expect(asked).toHaveLength(4);
    expect(most).toBe(2);
    expect(asked.every((r) => r.deadline === 8000)).toBe(true);
    expect(asked.find((r) => r.pullSecretNames?.includes('regcred'))).toBeDefined();
    expect(rows.map((r) => [r.target.workload.name, r.decision, r.digest])).toEqual([
      ['web', 'allowed', 'sha256:1'],
      ['web2', 'allowed', 'sha256:1'],
      ['web', 'allowed', 'sha256:1'],
      ['priv', 'allowed', 'sha256:1'],
      ['x', 'denied', 'sha256:1'],
    ]);
    expect(progress.at(-1)).toBe('4/4');
  });
});
