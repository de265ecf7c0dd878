/**
 * Finds the first object member name that occurs twice in the same object of a JSON text
 * that JSON.parse has already accepted. JSON.parse silently keeps the last duplicate, which
 * would let a second "trustedIdentities" hide the first from a reviewer; we reject instead.
 * Iterative (no recursion), so deep nesting cannot overflow the stack.
 */
export function findDuplicateKey(text: string): string | undefined {
  // Each open container: a Set of member names for objects, null for arrays.
  const stack: (Set<string> | null)[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '{') stack.push(new Set());
    else if (ch === '[') stack.push(null);
    else if (ch === '}' || ch === ']') stack.pop();
    else if (ch === '"') {
      const end = endOfString(text, i);
      const top = stack[stack.length - 1];
      if (top instanceof Set && nextSignificant(text, end) === ':') {
        const key = JSON.parse(text.slice(i, end)) as string;
        if (top.has(key)) return key;
        top.add(key);
      }
      i = end;
      continue;
    }
    i++;
  }
  return undefined;
}

/** Index just past the closing quote of the string starting at `start`. */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\\') i += 2;
    else if (ch === '"') return i + 1;
    else i++;
  }
  return i;
}

function nextSignificant(text: string, from: number): string | undefined {
  for (let i = from; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch !== ' ' && ch !== '\t' && ch !== '\n' && ch !== '\r') return ch;
  }
  return undefined;
}
