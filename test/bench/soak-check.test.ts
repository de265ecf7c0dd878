import { describe, expect, it } from 'vitest';
import { denialLines, judge, type ReviewCase } from '../../bench/soak/check.js';

/** The soak's judge: what decision each review must get (bench/soak/check.ts). */

const review = (containers: [string, 'signed' | 'unsigned' | 'either', number?][], enforced = true): ReviewCase => ({
  containers: containers.map(([image, truth, registry], i) => ({
    name: `c${i}`,
    image,
    truth,
    registry: registry ?? 0,
  })),
  enforced,
  sentAt: 100_000,
});
const answer = (allowed: boolean, message = '') => ({ status: 200, allowed, message, answeredAt: 100_050 });
const line = (i: number, image: string, rest: string) => `container "c${i}" image "${image}" ${rest}`;

describe('the soak judge', () => {
  it('wants signed images allowed and unsigned ones denied, each by name', () => {
    expect(judge(review([['r/s:1', 'signed']]), answer(true), [])).toEqual({ ok: true, kind: 'allowed' });
    expect(judge(review([['r/u:1', 'unsigned']]), answer(true), []).ok).toBe(false);
    expect(
      judge(review([['r/u:1', 'unsigned']]), answer(false, line(0, 'r/u:1', 'denied by X [ERR_NO_SIGNATURE]')), []),
    ).toEqual({ ok: true, kind: 'denied' });
    // denied, but the unsigned image is not the one named
    expect(
      judge(
        review([
          ['r/s:1', 'signed'],
          ['r/u:1', 'unsigned'],
        ]),
        answer(false, line(0, 'r/s:1', 'denied [ERR_NO_SIGNATURE]')),
        [],
      ).ok,
    ).toBe(false);
  });

  it('accepts a fail-closed denial of a signed image only while (or just after) its registry misbehaved, with a code that says so', () => {
    const denial = answer(
      false,
      line(
        0,
        'r/s:1',
        'could not be verified: registry r: 429 [ERR_REGISTRY_RATE_LIMITED]; denied by the failure policy (fail closed)',
      ),
    );
    expect(
      judge(review([['r/s:1', 'signed', 1]]), denial, [{ registry: 1, mode: 'rate-limit', from: 90_000, to: 95_000 }]),
    ).toEqual({ ok: true, kind: 'denied-by-chaos' });
    expect(
      judge(review([['r/s:1', 'signed', 1]]), denial, [{ registry: 0, mode: 'rate-limit', from: 90_000, to: 95_000 }])
        .ok,
    ).toBe(false);
    expect(
      judge(review([['r/s:1', 'signed', 1]]), denial, [{ registry: 1, mode: 'rate-limit', from: 10_000, to: 20_000 }])
        .ok,
    ).toBe(false);
    const verdict = answer(
      false,
      line(0, 'r/s:1', 'denied by ClusterTrustPolicy soak: authenticity failed [ERR_CHAIN_UNTRUSTED]'),
    );
    expect(
      judge(review([['r/s:1', 'signed', 1]]), verdict, [{ registry: 1, mode: 'garbage', from: 90_000, to: 95_000 }]).ok,
    ).toBe(false);
  });

  it('lets a just-moved tag go either way, wants everything allowed where no policy applies, and counts HTTP errors as wrong', () => {
    expect(
      judge(review([['r/m:v1', 'either']]), answer(false, line(0, 'r/m:v1', 'denied [ERR_NO_SIGNATURE]')), []).ok,
    ).toBe(true);
    expect(judge(review([['r/m:v1', 'either']]), answer(true), []).ok).toBe(true);
    expect(judge(review([['r/u:1', 'unsigned']], false), answer(true), []).ok).toBe(true);
    expect(judge(review([['r/u:1', 'unsigned']], false), answer(false, 'x'), []).ok).toBe(false);
    expect(
      judge(review([['r/s:1', 'signed']]), { status: 500, allowed: undefined, message: 'boom', answeredAt: 1 }, []).ok,
    ).toBe(false);
  });

  it('reads the denial lines by container name, quotes and all', () => {
    expect([
      ...denialLines('container "a\\"b" image "x" denied\nsomething else\ncontainer "c" image "y" denied'),
    ]).toEqual([
      ['a"b', 'container "a\\"b" image "x" denied'],
      ['c', 'container "c" image "y" denied'],
    ]);
  });
});
