import { spawn } from 'node:child_process';
const slow = process.argv[2] === 'slow';
for (const mode of ['pino', 'own']) {
  for (let run = 0; run < 3; run++) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'exp-child.mts', mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    let lines = 0; let rest = '';
    child.stdout.on('data', (c: Buffer) => {
      const text = rest + c.toString('utf8'); const parts = text.split('\n'); rest = parts.pop() ?? ''; lines += parts.length;
      if (slow) { child.stdout.pause(); setTimeout(() => child.stdout.resume(), 2); }
    });
    await new Promise((r) => child.on('close', r));
    console.log(slow ? 'slow' : 'fast', mode, run, lines);
  }
}
