import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { JsonLines } from './json-lines.js';

function capture() {
  const lines: string[] = [];
  return { lines, write: (chunk: string) => lines.push(...chunk.split('\n').filter((l) => l !== '')) };
}

const record = {
  endpoint: 'validate',
  uid: 'u-1',
  namespace: 'prod',
  images: [{ container: 'app', image: 'r.example/app:v1', digest: 'sha256:aa', allowed: true }],
  dryRun: false,
  latencyMs: 0.25,
  skipped: undefined,
  reason: 'quote " and newline \n and \u2028',
};

describe('JSON lines (the per-review log line)', () => {
  it('writes the same line pino writes for the same record, apart from the time', () => {
    const viaPino = capture();
    const viaLines = capture();
    const a = pino({ level: 'info', base: { service: 'portcullis' } }, viaPino);
    const b = pino({ level: 'info', base: { service: 'portcullis' } }, viaLines);
    a.info(record, 'admission review');
    new JsonLines(b, viaLines).info(record, 'admission review');
    const [p, l] = [JSON.parse(viaPino.lines[0] as string), JSON.parse(viaLines.lines[0] as string)];
    expect(typeof l.time).toBe('number');
    expect({ ...l, time: 0 }).toEqual({ ...p, time: 0 });
    // Same key order too, so the two are interchangeable for anyone reading the raw text.
    expect(Object.keys(l)).toEqual(Object.keys(p));
  });

  it('follows the logger level, also when it changes at run time', () => {
    const out = capture();
    const logger = pino({ level: 'warn' }, out);
    const lines = new JsonLines(logger, out);
    lines.info({ a: 1 }, 'quiet');
    lines.warn({ a: 2 }, 'loud');
    logger.level = 'info';
    lines.info({ a: 3 }, 'now heard');
    expect(out.lines.map((l) => JSON.parse(l).msg)).toEqual(['loud', 'now heard']);
    expect(JSON.parse(out.lines[0] as string).level).toBe(40);
  });

  it('writes a valid line for an empty record and for a logger without bindings', () => {
    const out = capture();
    const lines = new JsonLines(pino({ level: 'info', base: null }, out), out);
    lines.info({}, 'nothing to add');
    expect(JSON.parse(out.lines[0] as string)).toMatchObject({ level: 30, msg: 'nothing to add' });
  });

  it('keeps its lines in order with pino lines written through the same destination', () => {
    const out = capture();
    const logger = pino({ level: 'info' }, out);
    const lines = new JsonLines(logger, out);
    for (let i = 0; i < 10; i++) {
      logger.info({ i }, 'pino');
      lines.info({ i }, 'fast');
    }
    expect(out.lines.map((l) => `${JSON.parse(l).msg}${JSON.parse(l).i}`)).toEqual(
      Array.from({ length: 10 }, (_, i) => [`pino${i}`, `fast${i}`]).flat(),
    );
  });
});
