// Diagnostics: only the webhook benchmark (`npx tsx bench/webhook-only.ts`).
import { benchWebhook } from './webhook.js';
const w = await benchWebhook();
console.log(JSON.stringify({ bare: w.bare, httpOnly: w.httpOnly, warm: w.warm, at500: w.at500, at500Bursty: w.at500Bursty, cold: w.coldMs, burst: w.burst.registryRequests }, null, 1));
