import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { imagesOfPodSpec, WORKLOAD_KINDS } from '../../audit/index.js';
import { PortcullisError } from '../../errors/index.js';
import { explain, renderExplanation, type Explanation } from '../../explain/index.js';
import type { PolicySnapshot } from '../../policyset/index.js';
import { openClusterContext } from '../cluster-context.js';
import { EXIT, type CliIo } from '../io.js';

export interface ExplainCommandOptions {
  readonly namespace?: string;
  readonly image?: string[];
  readonly file?: string;
  readonly kubeconfig?: string;
  readonly policies?: string;
  readonly config?: string;
  readonly output?: string;
}

/** A manifest is small; a file beyond this is not one. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

interface Question {
  readonly subject?: string;
  readonly namespace: string;
  readonly image: string;
  readonly pullSecretNames: readonly string[];
  readonly serviceAccountName?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The images of the Pods and workloads of a manifest, each with its namespace, pull secrets and service account. */
async function questionsOfFile(file: string, namespace: string | undefined): Promise<Question[]> {
  let text: string;
  try {
    const bytes = await readFile(file);
    if (bytes.length > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
    text = bytes.toString('utf8');
  } catch (cause) {
    throw new PortcullisError('ERR_INPUT_INVALID', `-f ${file} cannot be read: ${(cause as Error).message}`, { cause });
  }
  const out: Question[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0)
      throw new PortcullisError('ERR_INPUT_INVALID', `-f ${file} is not valid YAML: ${doc.errors[0]?.message ?? ''}`);
    const object: unknown = doc.toJS({ maxAliasCount: 100 });
    if (!isRecord(object)) continue;
    const info = WORKLOAD_KINDS.find((k) => k.kind === object.kind);
    if (info === undefined) continue;
    let spec: unknown = object;
    for (const key of info.spec) spec = isRecord(spec) ? spec[key] : undefined;
    if (!isRecord(spec)) continue;
    const metadata = isRecord(object.metadata) ? object.metadata : {};
    const ns = namespace ?? (typeof metadata.namespace === 'string' ? metadata.namespace : 'default');
    const name = typeof metadata.name === 'string' ? metadata.name : '';
    const secrets = Array.isArray(spec.imagePullSecrets)
      ? spec.imagePullSecrets.flatMap((s) => (isRecord(s) && typeof s.name === 'string' ? [s.name] : []))
      : [];
    const sa = typeof spec.serviceAccountName === 'string' ? spec.serviceAccountName : undefined;
    for (const image of imagesOfPodSpec(spec)) {
      out.push({
        subject: `${info.kind}/${name} ${image.source === 'volumes' ? 'volume' : 'container'} ${JSON.stringify(image.container)}`,
        namespace: ns,
        image: image.image,
        pullSecretNames: secrets,
        ...(sa === undefined ? {} : { serviceAccountName: sa }),
      });
    }
  }
  if (out.length === 0)
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `-f ${file} holds no Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob with a container`,
    );
  return out;
}

/**
 * `portcullis explain`: for each image, the webhook's decision — made by the webhook's own
 * engine, built from the same configuration — with every policy and why it applies or not, the
 * statement chosen, the signatures found, every check of each, and what would make it pass.
 * Exit 0: every image would be admitted; 1: one would be denied.
 */
export async function explainCommand(opts: ExplainCommandOptions, io: CliIo): Promise<number> {
  const output = opts.output ?? 'text';
  if (output !== 'text' && output !== 'json')
    throw new PortcullisError('ERR_INPUT_INVALID', `-o must be text or json, not ${JSON.stringify(output)}`);
  const images = opts.image ?? [];
  if ((images.length === 0) === (opts.file === undefined))
    throw new PortcullisError('ERR_INPUT_INVALID', 'give --image REF (with --namespace NS) or -f POD.yaml');
  const questions: Question[] =
    opts.file !== undefined
      ? await questionsOfFile(opts.file, opts.namespace)
      : images.map((image) => ({ namespace: opts.namespace ?? 'default', image, pullSecretNames: [] }));
  const context = await openClusterContext(
    { kubeconfig: opts.kubeconfig, policies: opts.policies, config: opts.config, env: io.env },
    false,
  );
  const explanations: (Explanation & { subject?: string })[] = [];
  try {
    const { executor } = context.engine;
    const timeoutMs = context.config.webhook.timeoutSeconds * 1000;
    for (const q of questions) {
      const decision = await executor.check({
        image: q.image,
        namespace: q.namespace,
        deadline: io.now().getTime() + timeoutMs,
        explain: true,
        dryRun: true,
        pullSecretNames: q.pullSecretNames,
        ...(q.serviceAccountName === undefined ? {} : { serviceAccountName: q.serviceAccountName }),
      });
      const snapshot = executor.snapshot as PolicySnapshot;
      explanations.push({
        ...(q.subject === undefined ? {} : { subject: q.subject }),
        ...explain(snapshot, q.namespace, decision),
      });
    }
  } finally {
    await context.close();
  }
  if (output === 'json') io.stdout(`${JSON.stringify(explanations, null, 2)}\n`);
  else io.stdout(explanations.map((e) => renderExplanation(e, e.subject)).join('\n'));
  return explanations.every((e) => e.decision === 'allowed') ? EXIT.ok : EXIT.failed;
}
