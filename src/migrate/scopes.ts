import { registryScopeError, WILDCARD_SCOPE } from '../policy/index.js';
import { canonicalScope, parseReference } from '../reference/index.js';

/**
 * Image patterns of other tools (Kyverno's imageReferences globs, Ratify v2's scopes) as Notary
 * registry scopes, which are exact repositories or `*`. A pattern that names one repository
 * (with any tag: `registry/repo`, `registry/repo:*`) becomes that repository; a pattern that
 * cannot be written as repositories is widened to `*` — more images then need a signature,
 * never fewer (docs/migrating.md) — and the caller says so.
 */
export type ScopeResult =
  { readonly scope: string; readonly note?: string } | { readonly widened: true; readonly note: string };

export function patternToScope(pattern: string): ScopeResult {
  const p = pattern.trim();
  if (p === '*' || p === '**' || p === '*/*' || p === '*:*') return { scope: WILDCARD_SCOPE };
  // `repo:*` and `repo@*` name every tag or digest of one repository.
  const anyVersion = /^(.*[^*?])(?::\*|@\*|@sha256:\*)$/.exec(p);
  const base = anyVersion?.[1] ?? p;
  if (/[*?[\]]/.test(base)) {
    return {
      widened: true,
      note: `pattern "${pattern}" cannot be written as Notary registry scopes (exact repositories or *): widened to *, so every image the policy covers needs a signature; replace * with the exact repositories it meant`,
    };
  }
  let name: string;
  let narrowed = false;
  try {
    const ref = parseReference(base);
    name = ref.name;
    narrowed = anyVersion === null && (ref.digest !== undefined || /[:@][^/]*$/.test(base));
  } catch (error) {
    return {
      widened: true,
      note: `pattern "${pattern}" is not an image reference (${error instanceof Error ? error.message : String(error)}): widened to *`,
    };
  }
  const canonical = canonicalScope(name);
  const scope = 'value' in canonical ? canonical.value : name;
  const problem = registryScopeError(scope);
  if (problem !== undefined) return { widened: true, note: `pattern "${pattern}": ${problem}; widened to *` };
  return narrowed
    ? {
        scope,
        note: `pattern "${pattern}" names one tag or digest; Notary scopes name repositories, so every tag of ${scope} now needs a signature`,
      }
    : { scope };
}

/**
 * Scopes for a list of patterns: exact repositories, or `["*"]` when any pattern is `*` or had
 * to be widened. `notes` says what changed.
 */
export function patternsToScopes(patterns: readonly string[]): { scopes: string[]; notes: string[] } {
  const scopes = new Set<string>();
  const notes: string[] = [];
  let wildcard = false;
  for (const pattern of patterns) {
    const r = patternToScope(pattern);
    if (r.note !== undefined) notes.push(r.note);
    if ('widened' in r || r.scope === WILDCARD_SCOPE) wildcard = true;
    else scopes.add(r.scope);
  }
  return { scopes: wildcard ? [WILDCARD_SCOPE] : [...scopes], notes };
}
