import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers.js';

/**
 * The Dockerfile's properties, checked on its text. The image itself is built and run by
 * test/image (make test), with stand-in base images passed as the build arguments below.
 */

interface Instruction {
  readonly stage: number;
  readonly op: string;
  readonly args: string;
}

function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  // Join continuation lines, drop comments and blank lines.
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of logical) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (m === null) throw new Error(`cannot read Dockerfile line: ${line}`);
    const op = (m[1] as string).toUpperCase();
    if (op === 'FROM') stage++;
    // ARGs before the first FROM (stage -1) parameterise the FROM lines.
    out.push({ stage, op, args: m[2] as string });
  }
  return out;
}

const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const all = instructions(dockerfile);
const globalArgs = new Map(
  all
    .filter((i) => i.stage === -1 && i.op === 'ARG')
    .map((i) => {
      const [name, value] = i.args.split('=', 2) as [string, string | undefined];
      return [name, value] as const;
    }),
);
/** A FROM line with its `${ARG}` replaced by the ARG's default: what a plain `docker build .` uses. */
const withDefaults = (args: string): string =>
  args.replace(/\$\{(\w+)\}/g, (_m, name: string) => globalArgs.get(name) ?? `<unset ${name}>`);
const froms = all.filter((i) => i.op === 'FROM').map((i) => ({ ...i, args: withDefaults(i.args) }));
const finalStage = froms.length - 1;
const final = all.filter((i) => i.stage === finalStage);
const engines = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } })
  .engines.node;

describe('Dockerfile', () => {
  it('is multi-stage: build, production dependencies, runtime', () => {
    expect(froms.map((f) => f.args)).toEqual([
      'node:22-bookworm-slim AS build',
      'node:22-bookworm-slim AS prod-deps',
      'gcr.io/distroless/nodejs22-debian12:nonroot',
    ]);
  });

  it('takes its base images as build arguments whose defaults are the upstream images, and nothing else before FROM', () => {
    expect(Object.fromEntries(globalArgs)).toEqual({
      NODE_IMAGE: 'node:22-bookworm-slim',
      RUNTIME_IMAGE: 'gcr.io/distroless/nodejs22-debian12:nonroot',
    });
    expect(all.filter((i) => i.stage === -1).map((i) => i.op)).toEqual(['ARG', 'ARG']);
    expect(all.filter((i) => i.op === 'FROM').map((i) => i.args)).toEqual([
      '${NODE_IMAGE} AS build',
      '${NODE_IMAGE} AS prod-deps',
      '${RUNTIME_IMAGE}',
    ]);
    // scripts/image/build.sh passes exactly these two.
    const build = readFileSync(join(REPO_ROOT, 'scripts/image/build.sh'), 'utf8');
    expect([...build.matchAll(/--build-arg "(\w+)=/g)].map((m) => m[1])).toEqual(['NODE_IMAGE', 'RUNTIME_IMAGE']);
  });

  it('uses an even-numbered (LTS) Node line no older than package.json allows, the same in every stage', () => {
    const majors = froms.map((f) => Number(/node(?:js)?:?(\d+)/.exec(f.args)?.[1]));
    expect(new Set(majors).size).toBe(1);
    const major = majors[0] as number;
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(Number(/(\d+)/.exec(engines)?.[1]));
    // Tags, not digests: documented in the Dockerfile (digests cannot be looked up here).
    expect(dockerfile).toMatch(/pinned by tag, not by digest/);
  });

  it('builds with every dependency and ships production dependencies only', () => {
    const build = all.filter((i) => i.stage === 0 && i.op === 'RUN').map((i) => i.args);
    expect(build).toEqual(['npm ci --no-audit --no-fund', 'npm run build']);
    const deps = all.filter((i) => i.stage === 1 && i.op === 'RUN').map((i) => i.args);
    expect(deps).toHaveLength(1);
    expect(deps[0]).toMatch(/^npm ci --omit=dev --ignore-scripts\b/);
    const copies = final.filter((i) => i.op === 'COPY').map((i) => i.args);
    expect(copies).toEqual([
      '--from=prod-deps /app/package.json ./package.json',
      '--from=prod-deps /app/node_modules ./node_modules',
      '--from=build /app/dist ./dist',
    ]);
  });

  it('runs as the non-root user 65532 without a shell: no RUN in the runtime stage, exec-form ENTRYPOINT and CMD', () => {
    expect(final.filter((i) => i.op === 'USER').map((i) => i.args)).toEqual(['65532:65532']);
    expect(final.filter((i) => i.op === 'RUN')).toEqual([]);
    const entrypoint = final.find((i) => i.op === 'ENTRYPOINT');
    const cmd = final.find((i) => i.op === 'CMD');
    expect(JSON.parse(entrypoint?.args ?? 'null')).toEqual(['/nodejs/bin/node', '/app/dist/cli/main.js']);
    expect(JSON.parse(cmd?.args ?? 'null')).toEqual(['serve']);
    for (const i of all.filter((x) => x.op === 'CMD' || x.op === 'ENTRYPOINT'))
      expect(i.args.startsWith('['), `${i.op} must use the exec form`).toBe(true);
  });

  it('.dockerignore sends only what the build needs', () => {
    const ignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignore[0]).toBe('**');
    expect(ignore.filter((l) => l.startsWith('!')).sort()).toEqual([
      '!package-lock.json',
      '!package.json',
      '!src/**',
      '!tsconfig.build.json',
      '!tsconfig.json',
    ]);
    expect(ignore).toContain('src/**/*.test.ts');
    // Everything the build stages COPY from the context is let in.
    for (const i of all.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) {
      for (const source of i.args.split(/\s+/).slice(0, -1))
        expect(ignore, source).toContain(
          `!${source.replace(/^\.\//, '').replace(/\/$/, '')}${source === 'src' ? '/**' : ''}`,
        );
    }
  });
});
