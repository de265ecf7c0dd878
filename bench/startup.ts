import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * CLI start-up: the median wall time of 20 runs of each command next to `node -e 0` on the same
 * machine, interleaved so that a change in the machine's speed hits all alike. Runs the
 * installed entry (dist/cli/main.cjs, bundles and code cache made by `make build`), with a
 * code cache of its own that one untimed run per command fills first.
 */
const ROOT = join(import.meta.dirname, '..');
const MAIN = join(ROOT, 'dist', 'cli', 'main.cjs');
const RUNS = 20;

export interface StartupResult {
  readonly name: string;
  readonly medianMs: number;
  readonly ratio: number;
}

const COMMANDS: readonly { name: string; args: readonly string[] }[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'portcullis --help', args: [MAIN, '--help'] },
  { name: 'portcullis policy show', args: [MAIN, 'policy', 'show', '--config-dir', join(ROOT, 'examples', 'config')] },
  {
    name: 'portcullis verify --oci-layout',
    args: [
      MAIN,
      'verify',
      '--config-dir',
      join(ROOT, 'examples', 'config'),
      '--oci-layout',
      join(ROOT, 'examples', 'net-monitor-layout') +
        '@sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9',
    ],
  },
];

function once(args: readonly string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited with ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function benchStartup(): StartupResult[] {
  const cache = mkdtempSync(join(tmpdir(), 'portcullis-code-cache-'));
  try {
    const env = { ...process.env, XDG_CACHE_HOME: cache };
    for (const c of COMMANDS) once(c.args, env); // fills the code cache, as any first run does
    const times = COMMANDS.map(() => [] as number[]);
    for (let i = 0; i < RUNS; i++) COMMANDS.forEach((c, j) => times[j]?.push(once(c.args, env)));
    const base = median(times[0] as number[]);
    return COMMANDS.map((c, j) => {
      const m = median(times[j] as number[]);
      return { name: c.name, medianMs: m, ratio: m / base };
    });
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

export function printStartup(results: readonly StartupResult[]): void {
  console.log(`CLI start-up (median of ${RUNS} runs each, interleaved; goal ≤ 2× node -e 0)`);
  for (const r of results) {
    const verdict = r.name === 'node -e 0' ? '' : r.ratio <= 2 ? '  OK' : '  OVER GOAL';
    console.log(`  ${r.name.padEnd(32)} ${r.medianMs.toFixed(0).padStart(5)} ms   ${r.ratio.toFixed(2)}×${verdict}`);
  }
}

if (process.argv[1] === import.meta.filename) printStartup(benchStartup());
