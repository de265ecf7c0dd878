import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  REPO_ROOT,
  renderChart,
  splitDocs,
  idOf,
  kindOf,
  type Doc,
  type RenderedDoc,
} from '../../scripts/chart/manifests.js';

export { REPO_ROOT, idOf, kindOf, splitDocs, type Doc, type RenderedDoc };

export const CHART_DIR = join(REPO_ROOT, 'charts', 'portcullis');
export const NAMESPACE = 'portcullis-system';

const cache = new Map<string, RenderedDoc[]>();

/**
 * The chart rendered (scripts/chart/render.sh, release "portcullis" in portcullis-system) with these extra arguments.
 */
export function render(...args: string[]): RenderedDoc[] {
  const key = JSON.stringify(args);
  let docs = cache.get(key);
  if (docs === undefined) {
    docs = splitDocs(renderChart(args));
    cache.set(key, docs);
  }
  return docs;
}

/** Documents of the render, as plain values. */
export function values(...args: string[]): Doc[] {
  return render(...args).map((d) => d.value);
}

/** Renders and returns the error output of a render that must fail. */
export function renderError(...args: string[]): string {
  try {
    renderChart(args);
  } catch (error) {
    const e = error as { stderr?: string };
    return String(e.stderr ?? error);
  }
  throw new Error(`rendering with ${args.join(' ')} succeeded`);
}

/** The NOTES.txt of a render. */
export function notes(...args: string[]): string {
  return renderChart(['--notes', ...args]);
}

export function only(docs: readonly Doc[], kind: string, name?: string): Doc {
  const found = docs.filter(
    (d) => kindOf(d) === kind && (name === undefined || (d['metadata'] as Record<string, unknown>)['name'] === name),
  );
  if (found.length !== 1)
    throw new Error(
      `expected one ${kind}${name === undefined ? '' : ` ${name}`}, found ${found.length}: ${docs.map(idOf).join(', ')}`,
    );
  return found[0] as Doc;
}

export function kinds(docs: readonly Doc[]): string[] {
  return docs.map(kindOf).sort();
}

/** Reads a nested field: at(doc, 'spec', 'template', 'spec', 'containers', 0). */
export function at(value: unknown, ...path: (string | number)[]): any {
  let v: any = value;
  for (const p of path) {
    if (v === undefined || v === null) return undefined;
    v = v[p];
  }
  return v;
}

/** `kubectl kustomize DIR` as documents. */
export function kustomize(dir: string): RenderedDoc[] {
  return splitDocs(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
}
