export { explain, toPass } from './explain.js';
export type { Explanation, PolicyExplanation, SignatureExplanation, StatementSummary } from './explain.js';
export { printable, renderExplanation } from './render.js';
