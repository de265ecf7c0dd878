import type { DecidingSignature, ImageVerification } from '../verify/index.js';
import { printable } from './printable.js';

/**
 * Words for what decided an image (`verify`, `verify -v`, `inspect`): whose signature — the
 * manifest's own, the index's (covering it by digest), every platform manifest's — and each
 * required artifact.
 */

function platformOf(d: DecidingSignature): string {
  return d.platform === undefined ? d.digest : `${d.platform} ${d.digest}`;
}

/** One phrase: "the index's signature sha256:… (index sha256:…, tag v1)". */
export function decidedByPhrase(decidedBy: readonly DecidingSignature[]): string | undefined {
  const first = decidedBy[0];
  if (first === undefined) return undefined;
  if (first.role === 'manifest') return `its own signature ${first.signature}`;
  if (first.role === 'index') {
    const tag = first.tag === undefined ? '' : `, named by tag ${first.tag}, which lists this digest`;
    return `the signature ${first.signature} of the image index ${first.digest}${tag}`;
  }
  return `the signatures of all ${decidedBy.length} platform manifests (${decidedBy.map((d) => `${platformOf(d)}: ${d.signature}`).join('; ')})`;
}

/** Lines for `verify -v`: the index, its platform manifests, the required artifacts. */
export function imageLines(result: ImageVerification): string {
  const lines: string[] = [`platforms: ${result.platforms}`];
  const by = decidedByPhrase(result.decidedBy);
  if (by !== undefined) lines.push(`decided by ${by}`);
  const index = result.index;
  if (index !== undefined) {
    const state = index.verified === null ? 'not checked' : index.verified ? 'verified' : 'not verified';
    const why = index.error === undefined ? '' : `: ${index.error.message} [${index.error.code}]`;
    const via =
      index.tag === undefined
        ? ''
        : ` (tag ${index.tag}${index.listed === false ? ', does not list this digest' : ''})`;
    lines.push(`image index ${index.digest}${via}: ${state}${why}`);
    for (const p of index.platforms) {
      const s =
        p.verified === null ? 'not checked' : p.verified ? `verified (signature ${p.signature ?? ''})` : 'not verified';
      const pwhy = p.message === undefined ? '' : `: ${p.message} [${p.code ?? ''}]`;
      lines.push(`  platform ${p.platform ?? '(none named)'} ${p.digest}: ${s}${pwhy}`);
    }
  }
  for (const a of result.attestations) lines.push(attestationLine(a));
  return `${lines.map(printable).join('\n')}\n`;
}

export function attestationLine(a: ImageVerification['attestations'][number]): string {
  return `required artifact ${a.artifactType} (trust policy "${a.trustPolicy}"${a.maxAge === undefined ? '' : `, max age ${a.maxAge}`}): ${a.passed ? 'passed' : `failed [${a.code ?? ''}]`} — ${a.reason}`;
}
