import { toPortcullisError } from '../errors/index.js';
import { loadTrustPolicyFile, loadTrustStores } from '../notation-config/index.js';
import { selectStatement } from '../policy/index.js';
import {
  isIndexMediaType,
  parseImageIndex,
  verifyImage,
  type ImageVerification,
  type RevocationChecker,
} from '../verify/index.js';
import { CertificateCache } from '../x509/index.js';
import { requirementsFromFlags } from './image-requirements.js';
import type { CliIo } from './io.js';
import { decidedByPhrase } from './image-report.js';
import type { Target } from './target.js';

/**
 * What `inspect` adds for images: the platform manifests of an index with their own signatures,
 * the index a `repo:tag@digest` tag names, and — when the configuration directory has a trust
 * policy — whose signature decides under it (no other trust output: inspect stays a viewer).
 */
export interface ImageInspection {
  readonly platforms?: readonly {
    readonly platform?: string;
    readonly digest: string;
    readonly signatures: readonly string[];
  }[];
  readonly tag?: { readonly name: string; readonly digest?: string; readonly listsDigest: boolean };
  readonly decision?:
    | {
        readonly verified: boolean;
        readonly platforms: string;
        readonly decidedBy: ImageVerification['decidedBy'];
        readonly code: string | null;
        readonly message: string;
      }
    | { readonly unavailable: string };
}

export async function inspectImage(
  target: Target,
  configDir: string,
  io: CliIo,
  platforms: string | undefined,
  revocation: RevocationChecker | undefined,
): Promise<ImageInspection> {
  const { artifact, source } = target;
  const out: { -readonly [K in keyof ImageInspection]: ImageInspection[K] } = {};
  if (isIndexMediaType(artifact.mediaType)) {
    const index = parseImageIndex(await source.fetchManifest(artifact));
    out.platforms = await Promise.all(
      index.platforms.map(async (p) => ({
        ...(p.platform === undefined ? {} : { platform: p.platform }),
        digest: p.descriptor.digest,
        signatures: (await source.listSignatures(p.descriptor)).map((d) => d.digest),
      })),
    );
  }
  if (target.tag !== undefined) {
    const resolved = await target.tag.resolve();
    let lists = false;
    if (resolved !== undefined && isIndexMediaType(resolved.mediaType)) {
      lists = parseImageIndex(await source.fetchManifest(resolved)).manifests.some((d) => d.digest === artifact.digest);
    }
    out.tag = {
      name: target.tag.name,
      ...(resolved === undefined ? {} : { digest: resolved.digest }),
      listsDigest: lists,
    };
  }
  out.decision = await decide(target, configDir, io, platforms, revocation);
  return out;
}

async function decide(
  target: Target,
  configDir: string,
  io: CliIo,
  platforms: string | undefined,
  revocation: RevocationChecker | undefined,
): Promise<NonNullable<ImageInspection['decision']>> {
  let policy;
  try {
    policy = (await loadTrustPolicyFile(configDir)).policy;
  } catch (error) {
    return { unavailable: toPortcullisError(error, 'ERR_POLICY_NOT_FOUND').message };
  }
  try {
    const statement = selectStatement(policy, target.repository, target.reference);
    const requirements = requirementsFromFlags(platforms === undefined ? {} : { platforms }, policy, statement);
    const cache = new CertificateCache();
    const source = target.source;
    const result = await verifyImage(
      {
        reference: target.reference,
        repository: target.repository,
        artifact: target.artifact,
        requirements,
        ...(target.tag === undefined ? {} : { tag: target.tag }),
      },
      {
        policy,
        statement,
        trustStores: await loadTrustStores(configDir, statement.trustStores, cache),
        source: {
          listSignatures: (a) => source.listSignatures(a),
          fetchManifest: (d) => source.fetchManifest(d),
          fetchBlob: (d) => source.fetchBlob(d),
        },
        at: io.now(),
        certificateCache: cache,
        ...(revocation === undefined ? {} : { revocation }),
      },
    );
    return {
      verified: result.verified,
      platforms: result.platforms,
      decidedBy: result.decidedBy,
      code: result.error?.code ?? null,
      message: result.verified
        ? `decided by ${decidedByPhrase(result.decidedBy) ?? 'nothing (level skip)'} under trust policy "${result.policy.name}"${revocation === undefined ? ' (revocation not checked: add --revocation)' : ''}`
        : `${result.error?.message ?? 'not verified'} [${result.error?.code ?? ''}]`,
    };
  } catch (error) {
    const e = toPortcullisError(error, 'ERR_INTERNAL');
    return { unavailable: `${e.message} [${e.code}]` };
  }
}

/** The text lines `inspect` prints after the signature tree. */
export function inspectionLines(i: ImageInspection): string[] {
  const lines: string[] = [];
  if (i.platforms !== undefined) {
    lines.push(`platform manifests (${i.platforms.length}):`);
    for (const p of i.platforms) {
      const sigs = p.signatures.length === 0 ? 'no signature' : `signatures ${p.signatures.join(', ')}`;
      lines.push(`  ${p.platform ?? '(no platform)'} ${p.digest}: ${sigs}`);
    }
  }
  if (i.tag !== undefined) {
    const names = i.tag.digest === undefined ? 'names nothing' : `names ${i.tag.digest}`;
    lines.push(`tag ${i.tag.name} ${names}${i.tag.listsDigest ? ', an image index that lists this digest' : ''}`);
  }
  const d = i.decision;
  if (d !== undefined) {
    if ('unavailable' in d) lines.push(`trust decision: none (${d.unavailable})`);
    else
      lines.push(
        `trust decision (platforms: ${d.platforms}): ${d.verified ? 'verified, ' : 'not verified: '}${d.message}`,
      );
  }
  return lines;
}
