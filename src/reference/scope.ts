import { canonicalRegistry, foldDockerHub } from './registry-name.js';

/**
 * A trust policy registry scope (`registry/repository`, or `*`) in the canonical spelling image
 * references get (registry-name.ts), so that no spelling of an image escapes the statement
 * written for it: `LOCALHOST:05000/app` → `localhost:5000/app`, `docker.io/nginx` →
 * `docker.io/library/nginx`. A scope's first component is always its registry (notation's rule),
 * so a lower-case host without dot or port (`myreg/app`) is a registry here. Returns the reason
 * when the scope has no canonical spelling; text without a registry part is returned as is.
 */
export function canonicalScope(scope: string): { readonly value: string } | { readonly error: string } {
  const slash = scope.indexOf('/');
  if (scope === '*' || slash <= 0) return { value: scope };
  const written = scope.slice(0, slash);
  const registry = canonicalRegistry(written);
  if ('error' in registry) return { error: `registry scope "${scope}": ${registry.error}` };
  const folded = foldDockerHub(written, registry.value, scope.slice(slash + 1));
  if ('error' in folded) return { error: `registry scope "${scope}": ${folded.error}` };
  return { value: `${folded.value.registry}/${folded.value.path}` };
}
