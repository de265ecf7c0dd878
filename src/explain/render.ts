import type { Explanation, PolicyExplanation, SignatureExplanation } from './explain.js';

/** The explanation as a person reads it (`portcullis explain`, text output). */
export function renderExplanation(e: Explanation, subject?: string): string {
  const lines: string[] = [];
  lines.push(
    `${subject === undefined ? '' : `${subject}: `}image ${JSON.stringify(e.image)} in namespace ${e.namespace}`,
  );
  if (e.canonical !== undefined) lines.push(`  read as:  ${e.canonical}`);
  if (e.digest !== undefined) lines.push(`  digest:   ${e.digest}`);
  lines.push(`  decision: ${e.decision.toUpperCase()}${e.reason === undefined ? '' : ` — ${e.reason}`}`);
  // Admitted although a policy rejects it (dryrun/warn): say so on the decision line, in the
  // audit's words, or an admin reading "ALLOWED" during a dryrun rollout concludes all is well.
  const notEnforcing = e.policies.filter((p) => p.verdict !== undefined && !p.verdict.verified);
  if (e.decision === 'allowed' && notEnforcing.length > 0) {
    const names = notEnforcing.map((p) => `${p.policy} [${p.enforcementAction ?? 'deny'}]`).join(', ');
    const word = notEnforcing.some((p) => p.enforcementAction === 'warn') ? 'warned' : 'dryrun-denied';
    lines.push(
      `  rollout:  ${word} — admitted only because ${names} does not enforce; it would be DENIED with enforcementAction: deny`,
    );
  }
  for (const w of e.warnings) lines.push(`  warning:  ${w}`);
  lines.push(`  policies (snapshot revision ${e.revision}):`);
  if (e.policies.length === 0) lines.push('    none: no policy exists, so nothing is enforced');
  for (const p of e.policies) lines.push(...policyLines(p));
  // Image strings, subjects and messages come from pod specs, certificates and registries: no
  // control character of theirs reaches the terminal (no escape sequences, no forged lines).
  return `${lines.map(printable).join('\n')}\n`;
}

/** The line with every control character shown as `\u{…}` instead of acted on. */
export function printable(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}

function policyLines(p: PolicyExplanation): string[] {
  const mode = p.enforcementAction === undefined ? '' : ` [${p.enforcementAction}]`;
  if (!p.appliesToNamespace) return [`    - ${p.policy}${mode}: does not apply to the namespace (${p.why})`];
  const out = [`    + ${p.policy}${mode}: applies to the namespace (${p.why})`];
  if (p.appliesToImage === false) {
    out.push('        no statement of it names this repository (registryScopes) or *: it does not apply to the image');
    return out;
  }
  const s = p.statement;
  if (s !== undefined) {
    out.push(
      `        statement ${JSON.stringify(s.name)}: scopes ${s.registryScopes.join(', ')}; level ${s.level}` +
        (s.trustStores.length === 0 ? '' : `; trust stores ${s.trustStores.join(', ')}`) +
        (s.trustedIdentities.length === 0 ? '' : `; identities ${s.trustedIdentities.join(', ')}`),
    );
  }
  if (p.signatures !== undefined) {
    out.push(`        signatures found: ${p.signatures.length}`);
    for (const sig of p.signatures) out.push(...signatureLines(sig));
  }
  for (const d of p.decidedBy ?? [])
    out.push(
      `        decided by the ${d.role}'s signature: ${d.digest}${d.platform === undefined ? '' : ` (${d.platform})`}`,
    );
  for (const a of p.requiredArtifacts ?? [])
    out.push(
      `        required artifact ${a.artifactType}: ${a.passed ? 'passed' : 'FAILED'} — ${a.reason}${a.code === null ? '' : ` [${a.code}]`}`,
    );
  const v = p.verdict;
  if (v !== undefined) {
    const what = v.verified
      ? v.skipped === true
        ? 'ADMITS (level skip: signatures not verified)'
        : 'ADMITS'
      : `REJECTS${v.failedCheck === null ? '' : ` at ${v.failedCheck}`}`;
    out.push(`        verdict: ${what} — ${v.message}${v.code === null ? '' : ` [${v.code}]`}`);
  }
  if (p.toPass.length > 0) {
    out.push('        to pass:');
    for (const t of p.toPass) out.push(`          * ${t}`);
  }
  return out;
}

function signatureLines(s: SignatureExplanation): string[] {
  const out = [`          ${s.digest}: ${s.passed ? 'passed' : 'rejected'}`];
  if (s.signer !== undefined) out.push(`            signer: ${s.signer}`);
  if (s.chain !== undefined && s.chain.length > 0)
    out.push(
      `            chain:  ${s.chain.map((c) => `${c.subject} (sha256 ${c.sha256.slice(0, 16)}…)`).join(' → ')}`,
    );
  if (s.signingTime !== undefined) out.push(`            signed: ${s.signingTime}`);
  if (s.timestamp !== undefined) out.push(`            timestamp: ${s.timestamp}`);
  for (const c of s.checks) {
    const cause = c.code === undefined ? '' : ` ${c.code}: ${c.message ?? ''}`;
    const detail = c.detail === undefined ? '' : ` (${c.detail})`;
    out.push(`            ${c.check.padEnd(20)} ${c.status.padEnd(8)} [${c.action}]${cause}${detail}`);
  }
  return out;
}
