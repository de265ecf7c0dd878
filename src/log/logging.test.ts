import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogging } from './logging.js';

describe('webhook logging', () => {
  it('writes pino lines and review lines, in order, to the file descriptor once flushed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-log-'));
    const fd = openSync(join(dir, 'out.log'), 'w');
    try {
      const logging = createLogging({ level: 'info', fd });
      logging.logger.info({ revision: 1 }, 'policy snapshot in force');
      logging.lines.info({ uid: 'u-1', decision: 'allowed' }, 'admission review');
      logging.logger.debug('not at info');
      await logging.flush();
      const lines = readFileSync(join(dir, 'out.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines).toMatchObject([
        { level: 30, service: 'portcullis', revision: 1, msg: 'policy snapshot in force' },
        { level: 30, service: 'portcullis', uid: 'u-1', decision: 'allowed', msg: 'admission review' },
      ]);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('logs nothing when silent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-log-'));
    const fd = openSync(join(dir, 'out.log'), 'w');
    try {
      const logging = createLogging({ level: 'silent', fd });
      logging.logger.error('no');
      logging.lines.warn({}, 'no');
      await logging.flush();
      expect(readFileSync(join(dir, 'out.log'), 'utf8')).toBe('');
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
