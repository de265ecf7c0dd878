/**
 * Polls `check` every `intervalMs` until it holds; after `ms`, throws "timed out waiting for
 * <what>" followed by `context()` (what the test can tell about why, such as a server's log).
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  what: string,
  options: { ms?: number; intervalMs?: number; context?: () => string } = {},
): Promise<void> {
  const until = Date.now() + (options.ms ?? 20_000);
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
  }
  throw new Error(`timed out waiting for ${what}${options.context?.() ?? ''}`);
}
