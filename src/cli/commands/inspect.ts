import { toPortcullisError } from '../../errors/index.js';
import { parseEnvelope, parsePayload, type VerifiedEnvelope } from '../../envelope/index.js';
import type { RevocationChecker } from '../../verify/index.js';
import { CertificateCache } from '../../x509/index.js';
import { parseManifest, toSignatureManifest } from '../../oci/index.js';
import { accuracyMsOf, parseTimestampToken } from '../../timestamp/index.js';
import { EXIT, type CliIo } from '../io.js';
import { outputFormat, type OutputFormat } from '../options.js';
import { cliRevocationChecker, revocationMode } from '../revocation-checker.js';
import { openTarget, type Target, type TargetOptions } from '../target.js';
import { printable } from '../printable.js';

export interface InspectCommandOptions extends TargetOptions {
  readonly output?: string;
  /** online | offline: also check each certificate's revocation status and say which source answered. */
  readonly revocation?: string;
  readonly configDir?: string;
  readonly platforms?: string;
}

interface RevocationView {
  status: string;
  answeredBy?: string;
  detail?: string;
}

interface SignatureView {
  digest: string;
  mediaType?: string;
  signatureAlgorithm?: string;
  signingScheme?: string;
  signedAttributes?: Record<string, string>;
  userDefinedAttributes?: Record<string, string>;
  unsignedAttributes?: Record<string, unknown>;
  certificates?: {
    subject: string;
    issuer: string;
    sha256: string;
    validFrom: string;
    validUntil: string;
    revocation?: RevocationView;
  }[];
  signedArtifact?: unknown;
  error?: { code: string; message: string };
}

/**
 * `portcullis inspect <reference>` (or `--oci-layout`): every signature with its attributes and chain; for an index
 * its platform manifests' signatures; and, when the configuration directory has a trust policy, whose signature
 * decides under it (inspect-image.ts).
 */
export async function inspectCommand(reference: string, opts: InspectCommandOptions, io: CliIo): Promise<number> {
  const format = outputFormat(opts.output);
  const revocation =
    opts.revocation === undefined
      ? undefined
      : cliRevocationChecker(revocationMode(opts.revocation), new CertificateCache(), opts.configDir ?? '', io);
  const target = await openTarget(reference, opts, io);
  try {
    return await inspectTarget(target, format, io, revocation, opts);
  } finally {
    await target.close();
  }
}

async function inspectTarget(
  target: Target,
  format: OutputFormat,
  io: CliIo,
  revocation: RevocationChecker | undefined,
  opts: InspectCommandOptions,
): Promise<number> {
  const { reference, artifact, source } = target;
  const views: SignatureView[] = [];
  for (const d of await source.listSignatures(artifact)) {
    const view: SignatureView = { digest: d.digest };
    try {
      const sig = toSignatureManifest(parseManifest(await source.fetchManifest(d)));
      view.mediaType = sig.envelope.mediaType;
      const env = parseEnvelope(sig.envelope.mediaType, await source.fetchBlob(sig.envelope));
      view.signatureAlgorithm = env.algorithm;
      view.signingScheme = env.signed.signingScheme;
      const signed: Record<string, string> = { signingScheme: env.signed.signingScheme };
      if (env.signed.signingTime !== undefined) signed.signingTime = env.signed.signingTime.toISOString();
      if (env.signed.authenticSigningTime !== undefined)
        signed.authenticSigningTime = env.signed.authenticSigningTime.toISOString();
      if (env.signed.expiry !== undefined) signed.expiry = env.signed.expiry.toISOString();
      for (const a of env.signed.extendedAttributes)
        signed[a.key] = typeof a.value === 'string' ? a.value : JSON.stringify(a.value);
      view.signedAttributes = signed;
      const target = parsePayload(env.payload).targetArtifact;
      view.userDefinedAttributes = { ...(target.annotations ?? {}) };
      const unsigned: Record<string, unknown> = {};
      if (env.unsigned.signingAgent !== undefined) unsigned.signingAgent = env.unsigned.signingAgent;
      if (env.unsigned.timestampSignature !== undefined) {
        try {
          const token = parseTimestampToken(env.unsigned.timestampSignature);
          unsigned.timestampSignature = {
            genTime: token.info.genTime.toISOString(),
            accuracyMs: accuracyMsOf(token.info),
            certificates: token.certificates.map((c) => ({ subject: c.subject, sha256: c.sha256 })),
          };
        } catch (error) {
          unsigned.timestampSignature = { error: toPortcullisError(error, 'ERR_TIMESTAMP_INVALID').message };
        }
      }
      view.unsignedAttributes = unsigned;
      const chain = env.unsigned.certificateChain;
      const statuses = revocation === undefined ? undefined : await revocationOf(revocation, env, io.now());
      view.certificates = chain.map((c, i) => ({
        subject: c.subject,
        issuer: c.issuer,
        sha256: c.sha256,
        validFrom: c.notBefore.toISOString(),
        validUntil: c.notAfter.toISOString(),
        ...(statuses?.[i] === undefined ? {} : { revocation: statuses[i] }),
      }));
      view.signedArtifact = { mediaType: target.mediaType, digest: target.digest, size: target.size };
    } catch (error) {
      const e = toPortcullisError(error, 'ERR_INTERNAL');
      view.error = { code: e.code, message: e.message };
    }
    views.push(view);
  }
  const { inspectImage, inspectionLines } = await import('../inspect-image.js');
  const image = await inspectImage(target, opts.configDir ?? '', io, opts.platforms, revocation);
  if (format === 'json') {
    const json = { reference, digest: artifact.digest, mediaType: artifact.mediaType, signatures: views, ...image };
    io.stdout(`${JSON.stringify(json, null, 2)}\n`);
    return EXIT.ok;
  }
  const more = inspectionLines(image);
  if (views.length === 0) {
    io.stdout(`${[`${reference} has no associated signature`, ...more].map(printable).join('\n')}\n`);
    return EXIT.ok;
  }
  // A reference by digest already names it; a tag gets the digest it resolved to.
  const named = reference.endsWith(`@${artifact.digest}`) ? reference : `${reference}@${artifact.digest}`;
  const lines = [named, `└── application/vnd.cncf.notary.signature (${views.length})`];
  views.forEach((v, i) => {
    const last = i === views.length - 1;
    const pre = last ? '    ' : '    │';
    lines.push(`    ${last ? '└──' : '├──'} ${v.digest}`);
    const add = (text: string): void => void lines.push(`${pre}   ${text}`);
    if (v.error !== undefined) return add(`error: ${v.error.message} [${v.error.code}]`);
    add(`media type: ${v.mediaType ?? ''}`);
    add(`signature algorithm: ${v.signatureAlgorithm ?? ''}`);
    for (const [k, val] of Object.entries(v.signedAttributes ?? {})) add(`signed attribute ${k}: ${val}`);
    for (const [k, val] of Object.entries(v.userDefinedAttributes ?? {})) add(`user defined attribute ${k}: ${val}`);
    for (const [k, val] of Object.entries(v.unsignedAttributes ?? {}))
      add(`unsigned attribute ${k}: ${typeof val === 'string' ? val : JSON.stringify(val)}`);
    for (const c of v.certificates ?? []) {
      add(`certificate ${c.sha256}: ${c.subject} (issuer ${c.issuer}, valid ${c.validFrom} to ${c.validUntil})`);
      if (c.revocation !== undefined) {
        const by = c.revocation.answeredBy === undefined ? '' : ` by ${c.revocation.answeredBy}`;
        const why =
          c.revocation.status === 'unknown' && c.revocation.detail !== undefined ? `: ${c.revocation.detail}` : '';
        add(`  revocation: ${c.revocation.status}${by}${why}`);
      }
    }
    add(`signed artifact: ${JSON.stringify(v.signedArtifact)}`);
  });
  // One line per element: a newline or escape inside one came from the signature or the registry.
  io.stdout(`${[...lines, ...more].map(printable).join('\n')}\n`);
  return EXIT.ok;
}

/** Each certificate's revocation status and the source that answered (no trust decision). */
async function revocationOf(
  checker: RevocationChecker,
  env: VerifiedEnvelope,
  at: Date,
): Promise<RevocationView[] | undefined> {
  const signingTime =
    env.signed.signingScheme === 'notary.x509.signingAuthority' ? env.signed.authenticSigningTime : undefined;
  try {
    const result = await checker.check(
      env.unsigned.certificateChain,
      signingTime === undefined ? { verificationTime: at } : { signingTime, verificationTime: at },
    );
    return result.certificates.map((c) => ({
      status: c.status,
      ...(c.answeredBy === undefined ? {} : { answeredBy: c.answeredBy }),
      ...(c.detail === undefined ? {} : { detail: c.detail }),
    }));
  } catch (error) {
    const e = toPortcullisError(error, 'ERR_REVOCATION_UNKNOWN');
    return env.unsigned.certificateChain.map(() => ({ status: 'unknown', detail: e.message }));
  }
}
