import { ERROR_CODES, type ErrorCode } from './codes.js';
import { GUIDANCE, SECTIONS } from './troubleshooting.js';

/**
 * Renders docs/troubleshooting.md: every code of codes.ts with its meaning and remedy, and the
 * hand-written guidance of troubleshooting.ts (where a user meets it, what to check). A test
 * keeps the committed file identical; `npm run docs:errors` writes it.
 */
export function renderTroubleshootingDoc(): string {
  const anchor = (code: string) => code.toLowerCase();
  const lines: string[] = [
    '# Troubleshooting',
    '',
    'Every error Portcullis reports carries a stable code. This page says, for each code, what it',
    'means, where you meet it, what to check and what to do. It is generated from',
    '`src/errors/codes.ts` and `src/errors/troubleshooting.ts` by `npm run docs:errors`; a test fails',
    'when they differ. [errors.md](errors.md) is the one-table summary.',
    '',
    '## Finding the code',
    '',
    '- **CLI**: the last line on standard error ends with the code in brackets',
    '  (`error: … [ERR_CHAIN_UNTRUSTED]`); with `-o json` it is the `code` field. Exit status `1` is a',
    '  verification that failed, `2` invalid input or configuration. `-v` prints each registry request',
    "  and each check's result, `-d` the headers too (credentials masked).",
    "- **A denied pod**: the API server prints the webhook's message, which names the image, the",
    '  policy and the reason and ends with the code (`… [ERR_NO_SIGNATURE]`). A policy in `warn`',
    '  mode puts the same text in a warning; `dryrun` only logs it.',
    '- **A policy that does not take effect**: `kubectl get clustertrustpolicies,trustpolicies,clustertruststores,truststores -A`',
    '  shows READY and REASON; `kubectl get clustertrustpolicy NAME -o yaml` has the message with the',
    '  code in `status.conditions`.',
    '- **The server log**: one JSON line per review, with the decision, the images and their codes.',
    '',
    "When a registry, OCSP responder or TSA cannot answer in time, the webhook's failure policy",
    'decides (`webhook.failurePolicy`: Fail denies, Ignore admits) and the answer says so; a verdict',
    'about the image itself (no signature, untrusted chain) is never turned into an admission.',
    '',
    '## Codes',
    '',
    ...SECTIONS.map((s) => `- ${s.title}: ${s.codes.map((c) => `[\`${c}\`](#${anchor(c)})`).join(', ')}`),
    '',
  ];
  for (const section of SECTIONS) {
    lines.push(`## ${section.title}`, '');
    for (const code of section.codes) lines.push(...entry(code));
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function entry(code: ErrorCode): string[] {
  const info = ERROR_CODES[code];
  const guidance = GUIDANCE[code];
  return [
    `### ${code}`,
    '',
    `**Means:** ${info.summary}`,
    '',
    `**Where:** ${guidance.where}`,
    '',
    '**Check:**',
    '',
    ...guidance.check.map((c) => `- ${c}`),
    '',
    `**Do:** ${info.remedy}`,
    '',
  ];
}
