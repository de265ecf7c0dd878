import { PortcullisError } from '../errors/index.js';
import { DOCKER_HUB, canonicalRegistry, foldDockerHub } from './registry-name.js';

/**
 * Image references in the distribution grammar (distribution/reference, reference.go), normalised
 * the way Docker does (ParseNormalizedNamed): no registry means Docker Hub, a single Docker Hub
 * path component lives under `library/`, and `index.docker.io` is an alias of `docker.io`. The
 * registry is then written canonically (registry-name.ts: lower case, ports without leading
 * zeros, IPv6 in RFC 5952 form, every Docker Hub name as `docker.io`), and spellings that cannot
 * be folded safely are refused with ERR_REF_AMBIGUOUS: everything that picks a policy statement
 * or keys a cache sees one name per registry.
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [ domain "/" ] path-component ( "/" path-component )*
 *   domain     := host [ ":" port ]           host: DNS name or "[" IPv6 "]"
 *   path-comp  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag        := [\w][\w.-]{0,127}
 *   digest     := ( "sha256" | "sha384" | "sha512" ) ":" lower-case hex of the algorithm's length
 *
 * Pure: no I/O, no clock.
 */

export { DOCKER_HUB };
const DEFAULT_TAG = 'latest';
/** distribution's NameTotalLengthMax: the whole name (domain and path) is at most 255 characters. */
const NAME_MAX = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/** A parsed, normalised image reference. */
export class ImageReference {
  /** Registry host, with port when given: `docker.io`, `localhost:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** Repository path inside the registry: `library/nginx`. */
  readonly repository: string;
  /** Tag, when given (`latest` when neither tag nor digest was given). */
  declare readonly tag?: string;
  /** Digest, when given. It wins over the tag for fetching; the tag is kept for display. */
  declare readonly digest?: string;
  /** The reference as written (`LOCALHOST:05000/app`), for messages; `reference` is its canonical form. */
  readonly written: string;

  constructor(parts: {
    registry: string;
    repository: string;
    tag?: string | undefined;
    digest?: string | undefined;
    written?: string;
  }) {
    this.registry = parts.registry;
    this.repository = parts.repository;
    this.written =
      parts.written ??
      `${parts.registry}/${parts.repository}${parts.tag === undefined ? '' : `:${parts.tag}`}${parts.digest === undefined ? '' : `@${parts.digest}`}`;
    // Absent parts are absent properties, not `undefined` ones (exactOptionalPropertyTypes).
    if (parts.tag !== undefined) (this as { tag?: string }).tag = parts.tag;
    if (parts.digest !== undefined) (this as { digest?: string }).digest = parts.digest;
  }

  /** `registry/repository`: the trust policy scope. */
  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  /** The full normalised reference: `registry/repository[:tag][@digest]`. */
  get reference(): string {
    return `${this.name}${this.tag === undefined ? '' : `:${this.tag}`}${this.digest === undefined ? '' : `@${this.digest}`}`;
  }

  /** What to ask the registry for: the digest when known, else the tag. */
  get fetchReference(): string {
    return this.digest ?? this.tag ?? DEFAULT_TAG;
  }

  /** The same name pinned to a digest (the tag is kept for display). */
  withDigest(digest: string): ImageReference {
    checkDigest(digest, digest);
    return new ImageReference({ registry: this.registry, repository: this.repository, tag: this.tag, digest });
  }

  /** `"as written" (canonical)` when the two differ, else the reference: what messages show. */
  get shown(): string {
    return this.written === this.reference ? this.reference : `${this.written} (${this.reference})`;
  }

  toString(): string {
    return this.reference;
  }

  toJSON(): string {
    return this.reference;
  }
}

function invalid(input: string, why: string): never {
  const shown = printable(input, 200);
  throw new PortcullisError('ERR_REF_INVALID', `invalid image reference "${shown}": ${printable(why, 300)}`, {
    context: { reference: shown },
  });
}

function ambiguous(input: string, why: string): never {
  const shown = printable(input, 200);
  throw new PortcullisError(
    'ERR_REF_AMBIGUOUS',
    `image reference "${shown}" cannot be read one way only: ${printable(why, 400)}`,
    { context: { reference: shown } },
  );
}

// References come from pod specs and command lines: keep messages one line and short.
function printable(text: string, max: number): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

function checkDigest(input: string, digest: string): void {
  const colon = digest.indexOf(':');
  if (colon <= 0) invalid(input, `digest "${digest}" is not <algorithm>:<hex>`);
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (!Object.hasOwn(DIGEST_HEX_LENGTH, algorithm) || length === undefined) {
    invalid(input, `digest algorithm "${algorithm}" is not supported (use sha256, sha384 or sha512)`);
  }
  if (!/^[0-9a-f]*$/.test(hex)) invalid(input, `digest hex "${hex}" must be lower-case hexadecimal`);
  if (hex.length !== length)
    invalid(input, `${algorithm} digest must have ${length} hex characters, got ${hex.length}`);
}

function checkDomain(input: string, domain: string): void {
  let host = domain;
  let port: string | undefined;
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    if (close < 0) invalid(input, `registry "${domain}" has an unclosed IPv6 bracket`);
    const address = domain.slice(1, close);
    if (!/^[0-9a-fA-F:.]+$/.test(address) || !address.includes(':'))
      invalid(input, `registry "${domain}" is not a valid IPv6 literal`);
    const rest = domain.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) invalid(input, `registry "${domain}" has text after the IPv6 literal`);
      port = rest.slice(1);
    }
    host = '';
  } else {
    const colon = domain.indexOf(':');
    if (colon >= 0) {
      host = domain.slice(0, colon);
      port = domain.slice(colon + 1);
    }
    if (host === '') invalid(input, `registry "${domain}" has no host name`);
    for (const component of host.split('.')) {
      if (!DOMAIN_COMPONENT.test(component)) invalid(input, `registry host "${host}" is not a valid host name`);
    }
  }
  if (port !== undefined) {
    if (!/^[0-9]+$/.test(port) || Number(port) < 1 || Number(port) > 65535)
      invalid(input, `registry port "${port}" is not a port number`);
  }
}

// Docker's splitDockerDomain: the first component is a registry when it looks like a host
// (has a dot or a port, is localhost, or has upper-case letters, which a repository cannot).
function looksLikeDomain(component: string): boolean {
  return (
    component.includes('.') ||
    component.includes(':') ||
    component.startsWith('[') ||
    component === 'localhost' ||
    component !== component.toLowerCase()
  );
}

/**
 * Parses and normalises an image reference. Throws ERR_REF_INVALID naming what is wrong.
 *
 *   parseReference('nginx')                → docker.io/library/nginx:latest
 *   parseReference('localhost:5000/app@sha256:…')
 *   parseReference('[::1]:5000/app:v1')
 */
export function parseReference(input: string): ImageReference {
  if (typeof input !== 'string' || input === '') invalid(String(input), 'it is empty');
  if (/\s/.test(input)) invalid(input, 'it contains white space');
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(input))
    invalid(input, 'a reference has no URL scheme (drop the "https://")');

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (digest.includes('@')) invalid(input, 'it has more than one "@"');
    checkDigest(input, digest);
  }

  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  // A colon after the last slash starts the tag, unless it is inside a bracketed IPv6 host
  // with no path (`[::1]:5000` alone has no repository and fails below).
  if (colon > slash && !(slash < 0 && rest.startsWith('[') && colon < rest.indexOf(']'))) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (tag === '') invalid(input, 'the tag after ":" is empty');
    if (!TAG.test(tag)) {
      invalid(
        input,
        tag.length > 128
          ? `tag is ${tag.length} characters, at most 128 are allowed`
          : `tag "${tag}" may only contain letters, digits, "_", "." and "-", and not start with "." or "-"`,
      );
    }
  }
  if (rest === '') invalid(input, 'the repository name is empty');

  let registry: string;
  let path: string;
  const firstSlash = rest.indexOf('/');
  const first = firstSlash < 0 ? rest : rest.slice(0, firstSlash);
  let written: string | undefined;
  if (firstSlash >= 0 && looksLikeDomain(first)) {
    written = first;
    path = rest.slice(firstSlash + 1);
    checkDomain(input, written);
    // An upper-case host without dot or port is a registry only because of its case (Docker's
    // rule): its lower-case spelling is a Docker Hub repository, so there is no canonical form.
    if (!/[.:[]/.test(written) && written.toLowerCase() !== 'localhost') {
      ambiguous(
        input,
        `"${written}" is a registry only because it has upper-case letters ("${written.toLowerCase()}/${path}" is a Docker Hub repository); write the host in lower case with its port`,
      );
    }
    const canonical = canonicalRegistry(written);
    if ('error' in canonical) ambiguous(input, canonical.error);
    registry = canonical.value;
  } else {
    if (firstSlash < 0 && looksLikeDomain(first) && first !== first.toLowerCase())
      invalid(input, `repository name "${first}" must be lower-case`);
    if (firstSlash < 0 && (first.includes(':') || first.startsWith('[')))
      invalid(input, `"${first}" has no repository path`);
    registry = DOCKER_HUB;
    path = rest;
  }
  if (path === '') invalid(input, `no repository after the registry "${registry}"`);
  for (const component of path.split('/')) {
    if (component === '') invalid(input, `repository "${path}" has an empty path component`);
    if (component !== component.toLowerCase() && PATH_COMPONENT.test(component.toLowerCase())) {
      invalid(input, `repository name "${path}" must be lower-case`);
    }
    if (!PATH_COMPONENT.test(component)) {
      invalid(
        input,
        `repository path component "${component}" must be lower-case letters and digits separated by ".", "_", "__" or "-"`,
      );
    }
  }

  const folded = foldDockerHub(written ?? DOCKER_HUB, registry, path);
  if ('error' in folded) ambiguous(input, folded.error);
  ({ registry, path } = folded.value);
  if (registry.length + 1 + path.length > NAME_MAX)
    invalid(input, `the name is ${registry.length + 1 + path.length} characters, at most ${NAME_MAX} are allowed`);
  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  return new ImageReference({ registry, repository: path, tag, digest, written: input });
}

/** True for references this module can parse (no exception). */
export function isValidReference(input: string): boolean {
  try {
    parseReference(input);
    return true;
  } catch {
    return false;
  }
}
