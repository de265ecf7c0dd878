/**
 * The one canonical spelling of a registry name, so that a trust policy scope, a cache key and a
 * credential lookup see one registry where the container runtime sees one: a runtime resolves
 * `LOCALHOST:05012`, `localhost:5012` and `[::ffff:127.0.0.1]:5012`-style spellings to the same
 * server, so a policy must too.
 *
 * - The host is lower-cased (DNS and TLS name checks ignore case); the port loses leading zeros.
 * - IPv6 literals are written as RFC 5952 says (`[0:0::1]` → `[::1]`); an IPv4-mapped address is
 *   its IPv4 address (`[::ffff:127.0.0.1]` → `127.0.0.1`).
 * - Docker Hub's names (`docker.io`, `index.docker.io`, `registry-1.docker.io`) are `docker.io`,
 *   and a one-component repository there lives under `library/`, as the runtime folds them.
 *
 * Spellings that cannot be folded safely are refused (ERR_REF_AMBIGUOUS): a numeric host that is
 * not four decimal numbers (`127.1`, `0x7f.0.0.1`, `2130706433`: resolvers read them differently),
 * an explicit default port (`:443`, `:80`: whether it names the same server as no port depends on
 * HTTPS or plain HTTP), and a one-component repository on a Hub spelling the runtime does not
 * fold (`registry-1.docker.io/nginx`, `DOCKER.IO/nginx`: `library/nginx` or not).
 *
 * Different names of one server stay different: `localhost`, `127.0.0.1` and `[::1]`, or a DNS
 * alias, are distinct registries here as they are to the runtime's credentials and mirrors.
 * Pure: no I/O.
 */

export const DOCKER_HUB = 'docker.io';
/** Docker Hub's names: distribution folds `index.docker.io`; `registry-1.docker.io` is where its API lives. */
const DOCKER_HUB_NAMES: ReadonlySet<string> = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
/**
 * The exact spellings the runtime (distribution's splitDockerDomain) folds, adding `library/` to a one-component path.
 */
const RUNTIME_FOLDED_HUB_SPELLINGS: ReadonlySet<string> = new Set(['docker.io', 'index.docker.io']);
const DEFAULT_PORTS: ReadonlySet<number> = new Set([80, 443]);

export type Canonical<T> = { readonly value: T } | { readonly error: string };

/**
 * `host[:port]` in its canonical spelling, or why it has none. `domain` is a registry domain in
 * the reference grammar (a DNS name or bracketed IPv6 literal, optional port).
 */
export function canonicalRegistry(domain: string): Canonical<string> {
  const split = splitDomain(domain);
  if ('error' in split) return split;
  const { host, port } = split.value;
  if (port === undefined) return { value: host };
  if (!/^[0-9]+$/.test(port) || Number(port) < 1 || Number(port) > 65535)
    return { error: `registry port "${port}" is not a port number` };
  const number = Number(port);
  // `myreg:443` keeps its port: without it, `myreg/app` is a Docker Hub repository.
  if (DEFAULT_PORTS.has(number) && (host.includes('.') || host.startsWith('[') || host === 'localhost')) {
    return {
      error: `registry "${domain}" names the default port ${number}: whether that is the registry "${host}" depends on HTTPS or plain HTTP, so it is not folded; write "${host}"${number === 80 ? ' or another port' : ''}`,
    };
  }
  return { value: `${host}:${number}` };
}

/** The canonical host of a domain and its port as written. */
function splitDomain(domain: string): Canonical<{ readonly host: string; readonly port: string | undefined }> {
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    const ipv6 = close < 0 ? undefined : canonicalIpv6(domain.slice(1, close));
    if (ipv6 === undefined) return { error: `registry "${domain}" is not a valid IPv6 literal` };
    const rest = domain.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return { error: `registry "${domain}" has text after the IPv6 literal` };
    return { value: { host: ipv6, port: rest === '' ? undefined : rest.slice(1) } };
  }
  const colon = domain.indexOf(':');
  const host = (colon < 0 ? domain : domain.slice(0, colon)).toLowerCase();
  const numeric = numericHostError(host);
  if (numeric !== undefined) return { error: numeric };
  return { value: { host, port: colon < 0 ? undefined : domain.slice(colon + 1) } };
}

/**
 * A registry name and repository path, with Docker Hub folded as the runtime folds it. `written`
 * is the registry as written (the runtime folds only exact spellings), `registry` its canonical
 * form.
 */
export function foldDockerHub(
  written: string,
  registry: string,
  path: string,
): Canonical<{ readonly registry: string; readonly path: string }> {
  if (!DOCKER_HUB_NAMES.has(registry)) return { value: { registry, path } };
  if (path.includes('/')) return { value: { registry: DOCKER_HUB, path } };
  if (RUNTIME_FOLDED_HUB_SPELLINGS.has(written)) return { value: { registry: DOCKER_HUB, path: `library/${path}` } };
  return {
    error: `"${written}/${path}" is ambiguous: the container runtime adds "library/" only after "docker.io" and "index.docker.io" as written, so it may mean docker.io/library/${path} or docker.io/${path}; write docker.io/library/${path}`,
  };
}

/** Whether a registry (`host[:port]`, any spelling) is on the loopback interface: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackRegistry(registry: string): boolean {
  const split = splitDomain(registry);
  if ('error' in split) return false;
  const { host } = split.value;
  return host === 'localhost' || host === '[::1]' || /^127\.[0-9]+\.[0-9]+\.[0-9]+$/.test(host);
}

/** RFC 5952 text of an IPv6 address (bracketed), an IPv4-mapped one as IPv4, or undefined when invalid. */
function canonicalIpv6(address: string): string | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(address) || !address.includes(':')) return undefined;
  let hostname: string;
  try {
    // The WHATWG URL parser writes IPv6 hosts in the RFC 5952 form; it is pure computation.
    hostname = new URL(`http://[${address}]/`).hostname;
  } catch {
    return undefined;
  }
  const mapped = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(hostname);
  if (mapped === null) return hostname;
  const high = parseInt(mapped[1] as string, 16);
  const low = parseInt(mapped[2] as string, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/**
 * A host whose last label is a number is an IPv4 address to some resolvers (getaddrinfo reads
 * `127.1`, `0x7f.1` and `2130706433` as 127.0.0.1; Go's resolver does not): only the four-decimal
 * form means one thing everywhere.
 */
function numericHostError(host: string): string | undefined {
  const labels = host.split('.');
  const last = labels[labels.length - 1] ?? '';
  if (!/^[0-9]+$/.test(last) && !/^0x[0-9a-f]*$/.test(last)) return undefined;
  const quad = labels.length === 4 && labels.every((l) => /^(?:0|[1-9][0-9]{0,2})$/.test(l) && Number(l) <= 255);
  if (quad) return undefined;
  return `registry host "${host}" is a numeric address in a form resolvers read differently; write it as four decimal numbers without leading zeros (such as 127.0.0.1)`;
}
