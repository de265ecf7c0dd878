import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultKubeconfig } from './cluster-context.js';

describe('defaultKubeconfig: audit and explain find the cluster as kubectl does', () => {
  const dirs: string[] = [];
  const dir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'portcullis-kubeconfig-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('takes the first existing file of $KUBECONFIG before ~/.kube/config', () => {
    const home = dir();
    mkdirSync(join(home, '.kube'));
    writeFileSync(join(home, '.kube', 'config'), 'home');
    const second = join(dir(), 'second');
    writeFileSync(second, 'x');
    const missing = join(home, 'missing');
    expect(defaultKubeconfig({ HOME: home, KUBECONFIG: [missing, second].join(delimiter) })).toBe(second);
    expect(defaultKubeconfig({ HOME: home })).toBe(join(home, '.kube', 'config'));
  });

  it('is undefined without $KUBECONFIG and ~/.kube/config (then: the service account, or an error)', () => {
    expect(defaultKubeconfig({ HOME: dir() })).toBeUndefined();
    expect(defaultKubeconfig({})).toBeUndefined();
  });
});
