import { PortcullisError } from '../errors/index.js';

export interface LayoutReference {
  readonly dir: string;
  readonly tag?: string;
  readonly digest?: string;
}

/**
 * `<dir>@<digest>` or `<dir>:<tag>` (notation's --oci-layout form). The separator is the last
 * `@` or the last `:` after the last `/`, so directories may contain colons in earlier segments.
 */
export function parseLayoutReference(input: string): LayoutReference {
  const at = input.lastIndexOf('@');
  if (at > 0) {
    const digest = input.slice(at + 1);
    if (!/^[a-z0-9]+:[a-f0-9]+$/.test(digest)) {
      throw new PortcullisError(
        'ERR_INPUT_INVALID',
        `"${input}": "${digest}" is not a digest (expected <dir>@sha256:<hex>)`,
      );
    }
    return { dir: input.slice(0, at), digest };
  }
  const slash = input.lastIndexOf('/');
  const colon = input.lastIndexOf(':');
  if (colon > slash && colon > 0) {
    const tag = input.slice(colon + 1);
    if (!/^[\w][\w.-]{0,127}$/.test(tag))
      throw new PortcullisError('ERR_INPUT_INVALID', `"${input}": "${tag}" is not a valid tag`);
    return { dir: input.slice(0, colon), tag };
  }
  throw new PortcullisError(
    'ERR_INPUT_INVALID',
    `"${input}" names no tag or digest: use <dir>:<tag> or <dir>@<digest>`,
  );
}
