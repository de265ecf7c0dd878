import { parseAllDocuments } from 'yaml';

/**
 * Reads a manifest file the way `kubectl apply -f` takes it: YAML (JSON is YAML) with any number
 * of `---`-separated documents; empty documents are skipped; `kind: List` (and any `…List` with
 * `items`) is flattened. Duplicate mapping keys are an error (two readers must not disagree on a
 * value). A file with any error yields no objects at all.
 */
export type ManifestFileResult = { readonly objects: readonly unknown[] } | { readonly error: string };

const MAX_ALIASES = 100;
const MAX_LIST_DEPTH = 4;

export function parseManifests(text: string): ManifestFileResult {
  let documents: ReturnType<typeof parseAllDocuments>;
  try {
    documents = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true, strict: true });
  } catch (error) {
    return { error: `not valid YAML: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (!Array.isArray(documents)) return { objects: [] }; // an empty stream
  const objects: unknown[] = [];
  for (const [i, document] of documents.entries()) {
    const problem = document.errors[0];
    if (problem !== undefined) return { error: `not valid YAML (document ${i + 1}): ${oneLine(problem.message)}` };
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (error) {
      return {
        error: `not valid YAML (document ${i + 1}): ${oneLine(error instanceof Error ? error.message : String(error))}`,
      };
    }
    if (value === null || value === undefined) continue;
    const flattened = flatten(value, 0);
    if ('error' in flattened) return { error: `document ${i + 1}: ${flattened.error}` };
    objects.push(...flattened.objects);
  }
  return { objects };
}

function flatten(value: unknown, depth: number): { objects: unknown[] } | { error: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { objects: [value] };
  const object = value as Record<string, unknown>;
  const kind = object['kind'];
  if (typeof kind !== 'string' || !kind.endsWith('List') || !('items' in object)) return { objects: [value] };
  if (depth >= MAX_LIST_DEPTH) return { error: `lists nested more than ${MAX_LIST_DEPTH} deep` };
  const items = object['items'];
  if (items === null || items === undefined) return { objects: [] };
  if (!Array.isArray(items)) return { error: `${kind}.items is not a list` };
  const out: unknown[] = [];
  for (const item of items) {
    const inner = flatten(item, depth + 1);
    if ('error' in inner) return inner;
    out.push(...inner.objects);
  }
  return { objects: out };
}

function oneLine(message: string): string {
  // yaml's pretty errors append a code excerpt on later lines, introduced by a colon; keep the first line, without it.
  return (message.split('\n')[0] ?? message).trim().replace(/:$/, '');
}
