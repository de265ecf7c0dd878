/**
 * `npm run fuzz`: the property-based fuzz tests (`*.fuzz.test.ts`) with a random seed and
 * FUZZ_SCALE (default 20) times the runs `make test` does. The seed is printed first, and every
 * failure repeats it with fast-check's counterexample path; replay with
 * `FUZZ_SEED=<seed> FUZZ_SCALE=<scale> npx vitest run <file>`.
 *
 *   npm run fuzz                 # random seed, 20x
 *   FUZZ_SEED=42 npm run fuzz    # a given seed
 *   FUZZ_SCALE=100 npm run fuzz  # longer
 */
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

const seed =
  process.env['FUZZ_SEED'] !== undefined && process.env['FUZZ_SEED'] !== ''
    ? Number(process.env['FUZZ_SEED'])
    : randomInt(0, 2 ** 31 - 1);
const scale =
  process.env['FUZZ_SCALE'] !== undefined && process.env['FUZZ_SCALE'] !== '' ? Number(process.env['FUZZ_SCALE']) : 20;
if (!Number.isSafeInteger(seed) || !Number.isFinite(scale) || scale < 1) {
  console.error('FUZZ_SEED must be an integer and FUZZ_SCALE a number >= 1');
  process.exit(2);
}
console.log(`fuzz: seed ${seed}, scale ${scale} (replay: FUZZ_SEED=${seed} FUZZ_SCALE=${scale} npx vitest run <file>)`);
const result = spawnSync('npx', ['vitest', 'run', 'fuzz.test.ts', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, FUZZ_SEED: String(seed), FUZZ_SCALE: String(scale) },
});
if (result.status !== 0)
  console.error(
    `fuzz: FAILED with seed ${seed} (scale ${scale}); replay: FUZZ_SEED=${seed} FUZZ_SCALE=${scale} npx vitest run <file>`,
  );
else console.log(`fuzz: passed with seed ${seed}, scale ${scale}`);
process.exit(result.status ?? 1);
