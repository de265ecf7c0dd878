import { MEDIA_TYPE } from '../../oci/index.js';
import { EXIT, type CliIo } from '../io.js';
import { outputFormat, positiveInteger } from '../options.js';
import { openTarget, type TargetOptions } from '../target.js';
import { printable } from '../printable.js';

export interface ListCommandOptions extends TargetOptions {
  readonly output?: string;
  readonly maxSignatures?: string;
}

/**
 * `portcullis list <reference>` (alias `ls`): the Notary signatures of an artifact, printed as
 * notation list prints them — the artifact by digest, then each signature manifest's digest.
 */
export async function listCommand(reference: string, opts: ListCommandOptions, io: CliIo): Promise<number> {
  const format = outputFormat(opts.output);
  const max = positiveInteger('--max-signatures', opts.maxSignatures, 100);
  const target = await openTarget(reference, opts, io);
  try {
    const all = await target.listReferrers(target.artifact, MEDIA_TYPE.notarySignature);
    const signatures = all.slice(0, max);
    const root = `${(target.canonical ?? target.reference).replace(/(@sha\d+:[0-9a-f]+|:[\w][\w.-]{0,127})$/, '')}@${target.artifact.digest}`;
    if (target.resolvedTag !== undefined)
      io.stderr(`warning: ${reference} was resolved to ${target.artifact.digest}\n`);
    if (all.length > max)
      io.stderr(`warning: only the first ${max} of ${all.length} signatures are listed (--max-signatures)\n`);
    if (format === 'json') {
      io.stdout(
        `${JSON.stringify({ reference: root, digest: target.artifact.digest, mediaType: target.artifact.mediaType, signatures }, null, 2)}\n`,
      );
    } else if (signatures.length === 0) {
      io.stdout(`${root} has no associated signature\n`);
    } else {
      const lines = [
        root,
        `└── ${MEDIA_TYPE.notarySignature}`,
        ...signatures.map((s, i) => `    ${i === signatures.length - 1 ? '└──' : '├──'} ${s.digest}`),
      ];
      io.stdout(`${lines.map(printable).join('\n')}\n`);
    }
    return EXIT.ok;
  } finally {
    await target.close();
  }
}
