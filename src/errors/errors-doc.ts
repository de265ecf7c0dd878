import { ERROR_CODES } from './codes.js';

/** Renders docs/errors.md from the code table (a test keeps the committed file identical). */
export function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, info]) => `| \`${code}\` | ${info.summary} | ${info.remedy} |`);
  return [
    '# Error codes',
    '',
    'Every error Portcullis reports carries one of these stable codes (`code` in JSON output, in',
    'brackets in text output). Codes never change meaning; messages may be reworded. This file is',
    'generated from `src/errors/codes.ts` by `npm run docs:errors`; a test fails when they differ.',
    '[troubleshooting.md](troubleshooting.md) says, for each code, where you meet it and what to check.',
    '',
    'CLI exit status: `0` verified (or skipped by policy), `1` verification failed (no signature, or',
    'every signature rejected), `2` invalid input or configuration.',
    '',
    '| code | meaning | what to do |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
