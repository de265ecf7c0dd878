import { PortcullisError } from '../errors/index.js';
import { type Descriptor, MEDIA_TYPE } from '../oci/index.js';
import { parseStrictJson, isJsonObject } from '../util/index.js';

/** `os/arch[/variant]`, as docker, oras and the image-spec write a platform. */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export const INDEX_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPE.ociIndex, MEDIA_TYPE.dockerManifestList]);

export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-zA-Z0-9._-]+$/.test(p))) {
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `--platform "${text}" must be os/arch or os/arch/variant, e.g. linux/amd64 or linux/arm64/v8`,
    );
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return { os, architecture, ...(variant === undefined ? {} : { variant }) };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant === undefined ? '' : `/${p.variant}`}`;
}

function matches(wanted: Platform, found: unknown): boolean {
  if (!isJsonObject(found)) return false;
  return (
    found['os'] === wanted.os &&
    found['architecture'] === wanted.architecture &&
    (wanted.variant === undefined || found['variant'] === wanted.variant)
  );
}

function json(bytes: Uint8Array, what: string): Record<string, unknown> {
  try {
    const doc = parseStrictJson(Buffer.from(bytes).toString('utf8'), { what });
    if (isJsonObject(doc)) return doc;
  } catch (cause) {
    throw new PortcullisError('ERR_REGISTRY_RESPONSE', `${what} is not valid JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  throw new PortcullisError('ERR_REGISTRY_RESPONSE', `${what} is not a JSON object`);
}

/**
 * The manifest of one platform: from an index, the first entry whose `platform` matches; for a
 * single manifest, the manifest itself when its image config names that platform (as oras
 * does), else an error naming the platforms there are.
 */
export async function selectPlatform(
  root: Descriptor,
  wanted: Platform,
  read: { manifest(d: Descriptor): Promise<Uint8Array>; config(d: Descriptor): Promise<Uint8Array> },
): Promise<Descriptor> {
  const doc = json(await read.manifest(root), `manifest ${root.digest}`);
  if (INDEX_TYPES.has(root.mediaType)) {
    const entries = Array.isArray(doc['manifests']) ? (doc['manifests'] as unknown[]) : [];
    const found = entries.find((e) => isJsonObject(e) && matches(wanted, e['platform']));
    if (found !== undefined && isJsonObject(found)) {
      const { mediaType, digest, size } = found as { mediaType: string; digest: string; size: number };
      return { mediaType, digest, size };
    }
    const there = entries.map((e) =>
      isJsonObject(e) && isJsonObject(e['platform']) ? formatPlatform(e['platform'] as unknown as Platform) : '?',
    );
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `the index ${root.digest} has no ${formatPlatform(wanted)} manifest (it has ${there.join(', ') || 'none'})`,
    );
  }
  const config = doc['config'];
  if (isJsonObject(config) && typeof config['digest'] === 'string') {
    const c = json(await read.config(config as unknown as Descriptor), `config ${String(config['digest'])}`);
    if (matches(wanted, c)) return root;
    throw new PortcullisError(
      'ERR_INPUT_INVALID',
      `${root.digest} is a single-platform image for ${String(c['os'])}/${String(c['architecture'])}, not ${formatPlatform(wanted)}`,
    );
  }
  throw new PortcullisError(
    'ERR_INPUT_INVALID',
    `${root.digest} (${root.mediaType}) has no platform to match --platform ${formatPlatform(wanted)}`,
  );
}
