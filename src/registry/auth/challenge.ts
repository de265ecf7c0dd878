/**
 * `WWW-Authenticate` parsing (RFC 9110 §11.6.1): one or more challenges, each a scheme and
 * comma-separated `name=value` parameters whose values are tokens or quoted strings (which may
 * hold commas and `\`-escapes). Registries send `Basic realm="…"` or
 * `Bearer realm="…",service="…",scope="…"` (distribution token auth spec).
 */

export interface Challenge {
  /** Lower-case scheme: `basic`, `bearer`, … */
  readonly scheme: string;
  /** Parameters, names lower-cased. */
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/** Parses one header value into its challenges (a malformed part ends the parse). */
export function parseChallenges(value: string): Challenge[] {
  const out: Challenge[] = [];
  let rest = value;
  for (;;) {
    rest = rest.replace(/^[ \t,]+/, '');
    const scheme = TOKEN.exec(rest)?.[0];
    if (scheme === undefined) break;
    rest = rest.slice(scheme.length);
    const params = Object.create(null) as Record<string, string>;
    out.push({ scheme: scheme.toLowerCase(), params });
    for (let first = true; ; first = false) {
      const save = rest;
      rest = rest.replace(/^[ \t]+/, '');
      if (!first) {
        if (!rest.startsWith(',')) break;
        rest = rest.replace(/^,[ \t,]*/, '');
      }
      const name = TOKEN.exec(rest)?.[0];
      const after = name === undefined ? '' : rest.slice(name.length).replace(/^[ \t]*/, '');
      if (name === undefined || !after.startsWith('=') || after.startsWith('==')) {
        rest = save; // the next challenge's scheme (or a token68 form, which registries do not use)
        break;
      }
      rest = after.slice(1).replace(/^[ \t]*/, '');
      if (rest.startsWith('"')) {
        let text = '';
        let i = 1;
        for (; i < rest.length && rest[i] !== '"'; i++) {
          if (rest[i] === '\\' && i + 1 < rest.length) i++;
          text += rest[i];
        }
        if (i >= rest.length) return out; // unterminated quoted string
        params[name.toLowerCase()] = text;
        rest = rest.slice(i + 1);
      } else {
        // RFC 9110 wants a token here; registries have been seen sending bare URLs: take up to "," or space.
        const token = /^[^\s,"]*/.exec(rest)?.[0] ?? '';
        params[name.toLowerCase()] = token;
        rest = rest.slice(token.length);
      }
    }
  }
  return out;
}

/** All challenges of a (possibly repeated) header. */
export function parseChallengeHeader(value: string | readonly string[] | undefined): Challenge[] {
  if (value === undefined) return [];
  return (typeof value === 'string' ? [value] : value).flatMap((v) => parseChallenges(v));
}

/** The challenge to answer: Bearer when offered (a token is narrower than a password), else Basic. */
export function pickChallenge(challenges: readonly Challenge[]): Challenge | undefined {
  return (
    challenges.find((c) => c.scheme === 'bearer' && (c.params.realm ?? '') !== '') ??
    challenges.find((c) => c.scheme === 'basic')
  );
}
