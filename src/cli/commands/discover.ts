import { PortcullisError } from '../../errors/index.js';
import type { Descriptor } from '../../oci/index.js';
import { EXIT, type CliIo } from '../io.js';
import { openTarget, type TargetOptions } from '../target.js';
import { table } from '../table.js';
import { printable } from '../printable.js';

export interface DiscoverCommandOptions extends TargetOptions {
  readonly output?: string;
  readonly artifactType?: string;
  readonly depth?: string;
}

export interface ReferrerNode {
  readonly digest: string;
  readonly mediaType: string;
  readonly artifactType: string | null;
  readonly size: number;
  readonly annotations: Readonly<Record<string, string>>;
  readonly referrers: readonly ReferrerNode[];
}

// A referrer graph is attacker-shaped data: bound its depth and size.
const MAX_DEPTH = 8;
const MAX_NODES = 1000;

async function walk(
  list: (d: { readonly digest: string }) => Promise<Descriptor[]>,
  subject: { readonly digest: string },
  depth: number,
  seen: Set<string>,
  budget: { left: number },
): Promise<ReferrerNode[]> {
  if (depth <= 0) return [];
  const out: ReferrerNode[] = [];
  for (const d of await list(subject)) {
    if (seen.has(d.digest)) continue; // a cycle (a referrer of itself) must not loop
    if (--budget.left < 0)
      throw new PortcullisError('ERR_SIZE_LIMIT', `the referrer graph has more than ${MAX_NODES} nodes`);
    seen.add(d.digest);
    out.push({
      digest: d.digest,
      mediaType: d.mediaType,
      artifactType: d.artifactType ?? null,
      size: d.size,
      annotations: d.annotations ?? {},
      referrers: await walk(list, d, depth - 1, seen, budget),
    });
  }
  return out;
}

/** oras-style tree: referrers grouped by artifact type under their subject. */
export function renderTree(root: string, nodes: readonly ReferrerNode[]): string {
  const lines = [root];
  const render = (children: readonly ReferrerNode[], prefix: string): void => {
    const groups = new Map<string, ReferrerNode[]>();
    for (const n of children) {
      const key = n.artifactType ?? n.mediaType;
      groups.set(key, [...(groups.get(key) ?? []), n]);
    }
    const entries = [...groups.entries()];
    entries.forEach(([type, members], gi) => {
      const lastGroup = gi === entries.length - 1;
      lines.push(`${prefix}${lastGroup ? '└── ' : '├── '}${type}`);
      const groupPrefix = prefix + (lastGroup ? '    ' : '│   ');
      members.forEach((m, mi) => {
        const last = mi === members.length - 1;
        lines.push(`${groupPrefix}${last ? '└── ' : '├── '}${m.digest}`);
        render(m.referrers, groupPrefix + (last ? '    ' : '│   '));
      });
    });
  };
  render(nodes, '');
  return `${lines.map(printable).join('\n')}\n`;
}

/**
 * oras-style table: one row per referrer, depth first, with the subject it refers to (so the
 * nesting of an SBOM's signature under the SBOM stays visible).
 */
export function renderTable(rootDigest: string, nodes: readonly ReferrerNode[]): string {
  const rows: string[][] = [];
  const add = (subject: string, children: readonly ReferrerNode[], depth: number): void => {
    for (const n of children) {
      rows.push([n.digest, n.artifactType ?? n.mediaType, String(n.size), depth === 0 ? '(the artifact)' : subject]);
      add(n.digest, n.referrers, depth + 1);
    }
  };
  add(rootDigest, nodes, 0);
  if (rows.length === 0) return `no referrers of ${rootDigest}\n`;
  return `Discovered ${rows.length} artifact(s) referencing ${rootDigest}\n${table(['DIGEST', 'ARTIFACT TYPE', 'SIZE', 'SUBJECT'], rows)}`;
}

/** `portcullis discover <reference> -o tree|json`: the referrer graph, recursively. */
export async function discoverCommand(reference: string, opts: DiscoverCommandOptions, io: CliIo): Promise<number> {
  const output = opts.output ?? 'tree';
  if (output !== 'tree' && output !== 'json' && output !== 'table')
    throw new PortcullisError('ERR_INPUT_INVALID', `--output must be tree, table or json, got "${output}"`);
  const depth = opts.depth === undefined ? MAX_DEPTH : Number(opts.depth);
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH)
    throw new PortcullisError('ERR_INPUT_INVALID', `--depth must be 1..${MAX_DEPTH}`);
  const target = await openTarget(reference, opts, io);
  try {
    const filter = opts.artifactType;
    // The filter applies to the first level only; what refers to a match is always shown.
    let first = true;
    const list = async (d: { readonly digest: string }): Promise<Descriptor[]> => {
      const type = first ? filter : undefined;
      first = false;
      return target.listReferrers(d, type);
    };
    const referrers = await walk(list, target.artifact, depth, new Set([target.artifact.digest]), { left: MAX_NODES });
    const root = `${target.reference.replace(/@sha\d+:[0-9a-f]+$/, '')}@${target.artifact.digest}`;
    if (output === 'json') {
      io.stdout(
        `${JSON.stringify({ reference: root, mediaType: target.artifact.mediaType, digest: target.artifact.digest, size: target.artifact.size, referrers }, null, 2)}\n`,
      );
    } else if (output === 'table') {
      io.stdout(renderTable(target.artifact.digest, referrers));
    } else {
      io.stdout(renderTree(root, referrers));
    }
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
