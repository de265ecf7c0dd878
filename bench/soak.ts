/**
 * `npm run soak [-- --duration 30m --rate 500 --registries 3 --cycle 120s --json report.json]`:
 * `portcullis serve` under mixed load against real docker-registry instances that a schedule
 * slows down, rate-limits, makes answer garbage and restarts (bench/soak/run.ts). Prints the
 * report; exits 1 when an answer was wrong or came past the deadline.
 */
import { writeFileSync } from 'node:fs';
import { runSoak, type SoakReport } from './soak/run.js';

function duration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (m === null) throw new Error(`${flag} ${text}: want e.g. 30m, 90s, 500ms`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

const args = process.argv.slice(2);
const value = (flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const options = {
  durationMs: duration(value('--duration') ?? process.env['SOAK_DURATION'] ?? '30m', '--duration'),
  rate: Number(value('--rate') ?? process.env['SOAK_RATE'] ?? 500),
  registries: Number(value('--registries') ?? 3),
  cycleMs: duration(value('--cycle') ?? '120s', '--cycle'),
  log: (line: string) => console.log(line),
};
console.log(
  `soak: ${options.durationMs / 1000} s at ${options.rate} reviews/s, ${options.registries} registries, chaos cycle ${options.cycleMs / 1000} s`,
);
const report: SoakReport = await runSoak(options);
const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
console.log(`
soak report
  duration                 ${report.durationS} s, ${report.sent} reviews (${report.achievedRate}/s, target ${report.targetRate}/s)
  answers                  ${report.allowed} allowed, ${report.denied} denied, ${report.deniedByChaos} denied while a registry misbehaved (fail closed)
  wrong answers            ${report.wrong} (goal 0)
  past the deadline        ${report.pastDeadline} (goal 0); HTTP errors ${report.errors}
  latency                  p50 ${f(report.latencyMs.p50, 2)} ms, p99 ${f(report.latencyMs.p99)} ms, max ${f(report.latencyMs.max)} ms
  RSS (medians, 5 min)      ${f(report.rssMiB.afterWarmup)} MiB after warm-up, ${f(report.rssMiB.end)} MiB at the end (${f(report.rssMiB.growthPercent)}%, goal < 10%), max ${f(report.rssMiB.max)} MiB
  event-loop delay p99     median ${f(report.eventLoopDelayP99Ms.median, 2)} ms, max ${f(report.eventLoopDelayP99Ms.max, 2)} ms (prom-client's per 10 s; an idle loop reads about 10.2 ms: it samples every 10 ms)
  registry restarts        ${report.restarts} (signatures lost by a registry killed right after a push: ${report.lostSignatures})
  chaos                    ${JSON.stringify(report.chaos)}`);
for (const example of report.wrongExamples) console.log(`  wrong: ${example}`);
const json = value('--json');
if (json !== undefined) writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
process.exit(report.wrong === 0 && report.pastDeadline === 0 ? 0 : 1);
