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
  /**
   * `repo:tag@digest`: the digest is what is verified (as a runtime pulls it); the tag is
   * resolved only when the digest's own signatures are not the only ones that may count
   * (a platform manifest of the index the tag names). `undefined` when the tag does not exist.
   */
  readonly tag?: { readonly name: string; resolve(): Promise<ArtifactTarget | undefined> };
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
    const repo = { registry: ref.registry, repository: ref.repository };
    // `name:tag@digest`: the digest alone, as the runtime pulls it (the tag may name the index
    // that lists it; verifyImage asks for the tag when that matters).
    const pinnedTag = ref.digest !== undefined && ref.tag !== undefined ? ref.tag : undefined;
    const artifact: ArtifactTarget = await client.resolve(
      pinnedTag === undefined ? ref : { ...repo, digest: ref.digest },
    );
    const tag =
      pinnedTag === undefined
        ? undefined
        : {
            name: pinnedTag,
            resolve: async (): Promise<ArtifactTarget | undefined> => {
              try {
                return await client.resolve({ ...repo, tag: pinnedTag });
              } catch (error) {
                if (error instanceof PortcullisError && error.code === 'ERR_REGISTRY_NOT_FOUND') return undefined;
                throw error;
              }
            },
          };
    return {
      reference,
      ...(ref.digest === undefined ? { resolvedTag: ref.tag ?? 'latest' } : {}),
      canonical: ref.reference,
      repository: scope ?? `${ref.registry}/${ref.repository}`,
      artifact,
      ...(tag === undefined ? {} : { tag }),
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
