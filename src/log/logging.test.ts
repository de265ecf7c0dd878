import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogging } from './logging.js';

/** Runs a process that logs `lines` lines, flushes and exits at once; reads its stdout slowly. */
async function linesReceived(lines: number): Promise<{ received: number; last: unknown }> {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-log-'));
  const script = join(dir, 'child.mts');
  writeFileSync(
    script,
    `import { createLogging } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'logging.ts')).href)};
const logging = createLogging({ level: 'info' });
const pad = 'x'.repeat(150);
for (let i = 0; i < ${lines}; i++) logging.lines.info({ i, pad }, 'admission review');
await logging.flush();
process.exit(0);
`,
  );
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let received = 0;
    let rest = '';
    let last: unknown;
    child.stdout.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      received += parts.length;
      if (parts.length > 0) last = JSON.parse(parts[parts.length - 1] as string);
      // A slow reader: the pipe fills, and the writer has to wait for it.
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 2);
    });
    await new Promise((resolve) => child.on('close', resolve));
    return { received, last };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

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

  it('loses no line when the process exits right after flush(), behind a slow reader', async () => {
    const { received, last } = await linesReceived(20_000);
    expect(received).toBe(20_000);
    expect(last).toMatchObject({ i: 19_999, msg: 'admission review' });
  }, 60_000);
});
