import { stringify } from 'yaml';
import { wouldDeny, type AuditRow } from '../../audit/index.js';
import { PortcullisError } from '../../errors/index.js';
import { printable } from '../../explain/index.js';
import { PagedLister } from '../../kube/index.js';
import type { PolicySnapshot } from '../../policyset/index.js';
import { runAudit } from '../audit-run.js';
import { openClusterContext } from '../cluster-context.js';
import { EXIT, type CliIo } from '../io.js';
import { table } from '../table.js';

export interface AuditCommandOptions {
  readonly kubeconfig?: string;
  readonly policies?: string;
  readonly config?: string;
  readonly namespace?: string;
  readonly allNamespaces?: boolean;
  readonly output?: string;
  readonly concurrency?: string;
}

const cut = (s: string, n: number): string => printable(s.length > n ? `${s.slice(0, n - 1)}…` : s);

function owner(row: AuditRow): string {
  const w = `${row.target.workload.kind}/${row.target.workload.name}`;
  return row.target.ownedBy === undefined ? w : `${w} (of ${row.target.ownedBy})`;
}

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 64)
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `${flag} must be a whole number 1..64, not ${JSON.stringify(value)}`,
    );
  return Number(value);
}

/**
 * `portcullis audit`: what runs in the cluster — Pods, and the pod templates of Deployments,
 * StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs — decided image by image by the
 * webhook's engine, under the cluster's policies or those of `--policies DIR`. Exit 0: nothing
 * would be denied; 1: something is denied, or would be by a `warn` or `dryrun` policy once it
 * enforces (docs/audit.md); 2: the audit could not run.
 */
export async function auditCommand(opts: AuditCommandOptions, io: CliIo): Promise<number> {
  const output = opts.output ?? 'table';
  if (!['table', 'json', 'yaml'].includes(output))
    throw new PortcullisError('ERR_INPUT_INVALID', `-o must be table, json or yaml, not ${JSON.stringify(output)}`);
  if (opts.namespace !== undefined && opts.allNamespaces === true)
    throw new PortcullisError('ERR_INPUT_INVALID', '-n and --all-namespaces exclude each other');
  const context = await openClusterContext(
    { kubeconfig: opts.kubeconfig, policies: opts.policies, config: opts.config, env: io.env },
    true,
  );
  const progress = io.isTty ? io.progressStream : undefined;
  let lastDrawn = 0;
  const draw = (text: string, force = false): void => {
    if (progress === undefined) return;
    const now = io.now().getTime();
    if (!force && now - lastDrawn < 100) return;
    lastDrawn = now;
    progress.write(`\r\u001b[K${text}`);
  };
  let result;
  try {
    const { config, engine } = context;
    result = await runAudit({
      lister: new PagedLister(context.kubeConfig as NonNullable<typeof context.kubeConfig>),
      verifier: engine.executor,
      snapshot: engine.executor.snapshot as PolicySnapshot,
      scope: {
        ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }),
        ...(opts.allNamespaces === true ? { allNamespaces: true } : {}),
      },
      perImageTimeoutMs: config.webhook.timeoutSeconds * 1000,
      concurrency: positiveInt('--concurrency', opts.concurrency, config.audit.concurrency),
      pageSize: config.audit.pageSize,
      now: () => io.now().getTime(),
      onProgress: (phase, done, total) =>
        draw(
          phase === 'listing' ? `listing: ${done} objects` : `verifying: ${done}/${total} images`,
          phase === 'verifying' && (done === 1 || done === total),
        ),
    });
  } finally {
    draw('', true);
    await context.close();
  }
  const rows = result.rows;
  if (output === 'table') {
    if (rows.length === 0) io.stdout(`nothing runs in ${result.namespaces.length} namespace(s) audited\n`);
    else
      io.stdout(
        table(
          ['NAMESPACE', 'OWNER', 'CONTAINER', 'IMAGE', 'DIGEST', 'DECISION', 'CODE', 'REASON'],
          rows.map((r) => [
            r.target.namespace,
            printable(owner(r)),
            printable(r.target.container),
            cut(r.target.image, 80),
            r.digest === undefined ? '-' : cut(r.digest, 19),
            r.decision,
            r.code ?? '-',
            cut(r.reason.replace(/\s+/g, ' '), 160),
          ]),
        ),
      );
    if (result.covered.length > 0) {
      io.stderr(
        `not listed, covered by their owners: ${printable(result.covered.map((c) => `${c.namespace}/${c.object} (by ${c.coveredBy})`).join(', '))}\n`,
      );
    }
  } else {
    const doc = {
      namespaces: result.namespaces,
      results: rows.map((r) => ({
        namespace: r.target.namespace,
        owner: `${r.target.workload.kind}/${r.target.workload.name}`,
        ...(r.target.ownedBy === undefined ? {} : { ownedBy: r.target.ownedBy }),
        container: r.target.container,
        containerType: r.target.source,
        image: r.target.image,
        ...(r.digest === undefined ? {} : { digest: r.digest }),
        decision: r.decision,
        result: r.result,
        ...(r.policy === undefined ? {} : { policy: r.policy }),
        ...(r.rule === undefined ? {} : { rule: r.rule }),
        ...(r.code === undefined ? {} : { code: r.code }),
        reason: r.reason,
      })),
      covered: result.covered,
    };
    io.stdout(output === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc));
  }
  return rows.some((r) => wouldDeny(r.decision)) ? EXIT.failed : EXIT.ok;
}
