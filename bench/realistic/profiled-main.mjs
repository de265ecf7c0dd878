// Runs a `portcullis` entry (PORTCULLIS_REAL_MAIN, default the shipped dist/cli/main.cjs) under
// V8's CPU profiler and writes <PORTCULLIS_CPU_PROF>/serve-<pid>.cpuprofile when the process
// exits (`node --cpu-prof` is not allowed in NODE_OPTIONS). For bench/realistic/cold-pod-cpu.ts.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 200 });
session.post('Profiler.start');
process.on('exit', () => {
  // The in-process session answers synchronously, so the profile is written before the exit.
  session.post('Profiler.stop', (error, result) => {
    if (error === null && result !== undefined)
      writeFileSync(
        join(process.env.PORTCULLIS_CPU_PROF ?? '.', `serve-${process.pid}.cpuprofile`),
        JSON.stringify(result.profile),
      );
  });
});
createRequire(import.meta.url)(
  process.env.PORTCULLIS_REAL_MAIN ?? fileURLToPath(new URL('../../dist/cli/main.cjs', import.meta.url)),
);
