import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributionRegistry } from '../helpers/registry/distribution.js';

const ROOT = join(import.meta.dirname, '../..');
const IMAGE = 'sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9';
const SIGNATURE = 'application/vnd.cncf.notary.signature';

/** The README's CLI demo block: the ```sh block after "The Notary demo with the CLI alone". */
function demoBlock(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('The Notary demo with the CLI alone');
  expect(at, 'README has the CLI demo').toBeGreaterThan(0);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at))?.[1] ?? '';
  return block.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
}

interface Step {
  readonly line: string;
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One bash for the whole block (variables carry over, as in a terminal), each line's output and status kept apart. */
class Shell {
  readonly #bash: ChildProcessWithoutNullStreams;
  readonly #dir: string;
  #out = '';
  #waiters: (() => void)[] = [];
  #n = 0;

  constructor(cwd: string, env: NodeJS.ProcessEnv, dir: string) {
    this.#dir = dir;
    this.#bash = spawn('bash', ['--noprofile', '--norc'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#bash.stdout.setEncoding('utf8');
    this.#bash.stdout.on('data', (s: string) => {
      this.#out += s;
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  async run(line: string): Promise<Step> {
    const n = ++this.#n;
    const marker = `__step_${n}_done__`;
    const file = (ext: string): string => join(this.#dir, `${n}.${ext}`);
    this.#bash.stdin.write(
      `{\n${line}\n} >'${file('out')}' 2>'${file('err')}'; echo $? >'${file('rc')}'; echo ${marker}\n`,
    );
    while (!this.#out.includes(marker)) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return {
      line,
      status: Number(readFileSync(file('rc'), 'utf8').trim()),
      stdout: readFileSync(file('out'), 'utf8'),
      stderr: readFileSync(file('err'), 'utf8'),
    };
  }

  close(): void {
    this.#bash.stdin.end();
    this.#bash.kill();
  }
}

/**
 * What each line of the README demo must do, in order. The lines are run exactly as written
 * (only `localhost:5000` becomes the test registry) by bash, with `portcullis` on PATH running
 * the sources, in a fresh directory with a copy of examples/ and a fresh HOME.
 */
const EXPECTED: readonly { starts: string; status?: number; check: (s: Step, host: string) => void }[] = [
  { starts: 'export NOTATION_CONFIG=$(mktemp -d)', check: () => undefined },
  {
    starts: 'portcullis copy --from-oci-layout',
    check: (s, host) =>
      expect(s.stdout).toContain(
        `Copied [oci-layout] examples/net-monitor-layout:v1 => [registry] ${host}/net-monitor:v1@${IMAGE}`,
      ),
  },
  {
    starts: 'portcullis cert generate-test',
    check: (s) => expect(s.stdout).toContain('trust store: ca:wabbit-networks.io'),
  },
  {
    starts: 'portcullis sign',
    check: (s, host) => expect(s.stdout).toContain(`Successfully signed ${host}/net-monitor@${IMAGE}`),
  },
  {
    starts: 'portcullis list',
    check: (s, host) => {
      const lines = s.stdout.trimEnd().split('\n');
      expect(lines.slice(0, 2)).toEqual([`${host}/net-monitor@${IMAGE}`, `└── ${SIGNATURE}`]);
      expect(lines[2]).toMatch(/^ {4}└── sha256:[0-9a-f]{64}$/);
    },
  },
  {
    starts: 'portcullis verify localhost:5000/',
    status: 2,
    check: (s) => {
      expect(s.stderr).toContain('[ERR_POLICY_NOT_FOUND]');
      expect(s.stderr).toContain('portcullis policy init');
    },
  },
  {
    starts: 'portcullis policy init',
    check: (s) => {
      expect(s.stdout).toContain('Successfully initialized the trust policy');
      // The first line's directory, not ~/.config/notation, holds the demo's configuration.
      expect(s.stdout).not.toContain('/home/');
      expect(s.stdout).toMatch(/trust policy \/tmp\/tmp\.\w+\/trustpolicy\.oci\.json/);
    },
  },
  {
    starts: 'portcullis policy show',
    check: (s, host) => {
      const doc = JSON.parse(s.stdout) as {
        trustPolicies: { name: string; registryScopes: string[]; trustStores: string[] }[];
      };
      expect(doc.trustPolicies).toEqual([
        expect.objectContaining({
          name: 'wabbit-networks',
          registryScopes: [`${host}/net-monitor`],
          trustStores: ['ca:wabbit-networks.io'],
        }),
      ]);
    },
  },
  {
    starts: 'portcullis verify localhost:5000/',
    check: (s, host) => {
      expect(s.stdout).toContain(`successfully verified signature sha256:`);
      expect(s.stdout).toContain(`${host}/net-monitor:v1@${IMAGE}`);
      expect(s.stderr).toContain(`rather than a tag(:v1)`);
    },
  },
  { starts: 'echo', check: () => undefined },
  { starts: 'SBOM=$(portcullis attach', check: () => undefined },
  {
    starts: 'portcullis sign localhost:5000/net-monitor@$SBOM',
    check: (s, host) =>
      expect(s.stdout).toMatch(new RegExp(`Successfully signed ${host}/net-monitor@sha256:(?!${IMAGE.slice(7)})`)),
  },
  {
    starts: 'portcullis discover -o table',
    check: (s) => {
      expect(s.stdout).toContain(`Discovered 3 artifact(s) referencing ${IMAGE}`);
      expect(s.stdout.split('\n').filter((l) => l.includes(SIGNATURE))).toHaveLength(2);
      expect(s.stdout).toContain('application/spdx+json');
    },
  },
  {
    starts: 'portcullis verify --require-artifact application/spdx+json',
    check: (s) => {
      expect(s.stdout).toMatch(/^successfully verified signature sha256:/);
      expect(s.stdout).toMatch(/required artifact application\/spdx\+json \(trust policy "wabbit-networks"\): passed/);
    },
  },
  {
    starts: 'portcullis copy -r --to-oci-layout',
    check: (s) => expect(s.stdout).toMatch(/4 manifest\(s\) and \d+ blob\(s\) copied .*, 3 referrer\(s\)/),
  },
  {
    starts: 'portcullis verify --oci-layout',
    check: (s) => expect(s.stdout).toContain(`successfully verified signature sha256:`),
  },
];

describe("the README's CLI demo, run as written against Debian's docker-registry", () => {
  let registry: DistributionRegistry;
  let dir: string;
  let shell: Shell;

  beforeAll(async () => {
    registry = await DistributionRegistry.start();
    dir = mkdtempSync(join(tmpdir(), 'portcullis-readme-'));
    const work = join(dir, 'work');
    const bin = join(dir, 'bin');
    mkdirSync(join(work, 'examples'), { recursive: true });
    mkdirSync(bin);
    mkdirSync(join(dir, 'home'));
    mkdirSync(join(dir, 'steps'));
    cpSync(join(ROOT, 'examples', 'net-monitor-layout'), join(work, 'examples', 'net-monitor-layout'), {
      recursive: true,
    });
    const tsx = fileURLToPath(import.meta.resolve('tsx'));
    writeFileSync(
      join(bin, 'portcullis'),
      `#!/bin/sh\nexec "${process.execPath}" --import "${tsx}" "${join(ROOT, 'src', 'cli', 'main.ts')}" "$@"\n`,
    );
    chmodSync(join(bin, 'portcullis'), 0o755);
    const env: NodeJS.ProcessEnv = {
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      HOME: join(dir, 'home'),
      LANG: 'C.UTF-8',
    };
    shell = new Shell(work, env, join(dir, 'steps'));
  }, 60_000);

  afterAll(async () => {
    shell?.close();
    await registry?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("passes step by step: each command's exit status and output", async () => {
    const lines = demoBlock().map((l) => l.replaceAll('localhost:5000', registry.host));
    expect(
      lines.map((l, i) => l.startsWith(EXPECTED[i]?.starts.replaceAll('localhost:5000', registry.host) ?? '\0')),
    ).toEqual(lines.map(() => true));
    expect(lines).toHaveLength(EXPECTED.length);
    for (const [i, line] of lines.entries()) {
      const step = await shell.run(line);
      const expected = EXPECTED[i] as (typeof EXPECTED)[number];
      expect(step.status, `${line}\n${step.stderr}`).toBe(expected.status ?? 0);
      expected.check(step, registry.host);
    }
  }, 180_000);
});
