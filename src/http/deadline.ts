/**
 * Per-request deadlines. The API server appends `?timeout=<Go duration>` (e.g. `10s`) to the
 * webhook URL with the webhook's timeoutSeconds; Portcullis answers before it, leaving a margin
 * for the network and the answer itself.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const GO_DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|μs|ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)/g;

/** Parses a positive Go `time.Duration` string (`10s`, `1.5s`, `1m30s`, `500ms`) to ms; undefined when invalid. */
export function parseGoDuration(text: string): number | undefined {
  // The API server sends the same `timeout` on every request of a webhook: parse it once.
  if (text === lastText) return lastMs;
  const ms = parse(text);
  lastText = text;
  lastMs = ms;
  return ms;
}

let lastText: string | undefined;
let lastMs: number | undefined;

function parse(text: string): number | undefined {
  if (text.length > 64 || !GO_DURATION.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(PART)) ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/**
 * How long this request may take: the smaller of the API server's `timeout` and the configured
 * webhook timeout, minus the margin. When the margin would eat more than half of a short
 * timeout, half the timeout is used instead, so a 1 s webhook still gets 500 ms of work.
 */
export function budgetMs(configuredTimeoutMs: number, marginMs: number, queryTimeout?: string): number {
  const fromQuery = queryTimeout === undefined ? undefined : parseGoDuration(queryTimeout);
  const timeout = fromQuery === undefined ? configuredTimeoutMs : Math.min(fromQuery, configuredTimeoutMs);
  return timeout > 2 * marginMs ? timeout - marginMs : timeout / 2;
}
