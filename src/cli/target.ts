import { OciLayout, layoutSignatureSource, parseLayoutReference } from '../layout/index.js';
import type { ArtifactTarget, Descriptor } from '../oci/index.js';
import { PortcullisError } from '../errors/index.js';
import { canonicalScope, parseReference } from '../reference/index.js';
import type { SignatureSource } from '../verify/index.js';
import type { CliIo } from './io.js';
import type { RegistryCliOptions } from './registry-flags.js';

/** What verify and inspect work on: an artifact in an OCI layout or in a registry. */
export interface Target {
  /** The reference as the user gave it. */
  readonly reference: string;
  /** The reference as read: canonical registry, Docker Hub folded (registry targets only). */
  readonly canonical?: string;
  /** The tag the reference named without a digest (it was resolved to a digest: a warning is due). */
  readonly resolvedTag?: string;
  /** `registry/repository`, the trust policy scope ('' for a layout without --scope). */
  readonly repository: string;
  readonly artifact: ArtifactTarget;
  readonly source: SignatureSource;
  listReferrers(subject: { readonly digest: string }, artifactType?: string): Promise<Descriptor[]>;
  close(): Promise<void>;
}

export interface TargetOptions extends RegistryCliOptions {
  readonly ociLayout?: boolean;
  readonly scope?: string;
}

/** `--scope` in the canonical spelling the trust policy's scopes have (src/reference). */
function scopeOption(scope: string | undefined): string | undefined {
  if (scope === undefined) return undefined;
  const canonical = canonicalScope(scope);
  if ('error' in canonical) throw new PortcullisError('ERR_REF_AMBIGUOUS', `--scope: ${canonical.error}`);
  return canonical.value;
}

export async function openTarget(reference: string, opts: TargetOptions, io: CliIo): Promise<Target> {
  const scope = scopeOption(opts.scope);
  if (opts.ociLayout === true) {
    const ref = parseLayoutReference(reference);
    const layout = await OciLayout.open(ref.dir);
    const artifact = await layout.resolve(ref);
    return {
      reference,
      ...(ref.digest === undefined ? { resolvedTag: ref.tag ?? 'latest' } : {}),
      // notation selects the statement for a layout by --scope; without one only a `*` statement applies.
      repository: scope ?? '',
      artifact,
      source: layoutSignatureSource(layout),
      listReferrers: (subject, artifactType) => layout.listReferrers(subject, artifactType),
      close: async () => undefined,
    };
  }
  const ref = parseReference(reference);
  // The registry client (undici and the auth layer) is loaded only for registry references.
  const { openRegistryClient } = await import('./registry-options.js');
  const client = await openRegistryClient(opts, [ref], io);
  try {
    // A digest is resolved too (one manifest HEAD): the signed payload's media type and size are
    // compared with what the registry holds for it, exactly as for a tag.
    const artifact: ArtifactTarget = await client.resolve(ref);
    const repo = { registry: ref.registry, repository: ref.repository };
    return {
      reference,
      ...(ref.digest === undefined ? { resolvedTag: ref.tag ?? 'latest' } : {}),
      canonical: ref.reference,
      repository: scope ?? `${ref.registry}/${ref.repository}`,
      artifact,
      source: client.signatureSource(repo),
      listReferrers: (subject, artifactType) =>
        client.listReferrers(repo, subject, artifactType === undefined ? {} : { artifactType }),
      close: () => client.close(),
    };
  } catch (error) {
    await client.close();
    throw error;
  }
}
