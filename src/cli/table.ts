import { printable } from './printable.js';

/** Columns padded to the widest cell, as notation, oras and kubectl print tables. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('   ')
      .trimEnd();
  return `${[line(head), ...rows.map(line)].map(printable).join('\n')}\n`;
}
