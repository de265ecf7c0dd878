import { parseManifests } from '../policy-source/index.js';
import type { InputObject } from './types.js';

/**
 * The objects of one input file, as `kubectl apply -f` reads it (multi-document YAML or JSON,
 * Lists flattened, duplicate keys refused), each tagged `file#n`. Throws with the file name
 * when the text is not YAML.
 */
export function readInputObjects(text: string, file: string): InputObject[] {
  const parsed = parseManifests(text);
  if ('error' in parsed) throw new Error(`${file}: ${parsed.error}`);
  return parsed.objects.map((object, i) => ({ object, origin: `${file}#${i + 1}` }));
}
