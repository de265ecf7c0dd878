/** `text` (a PEM block, say) trimmed, each line indented by `spaces`: for a YAML block scalar. */
export const indent = (text: string, spaces: number): string =>
  text
    .trim()
    .split('\n')
    .map((l) => `${' '.repeat(spaces)}${l}`)
    .join('\n');
