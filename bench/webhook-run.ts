// Only the webhook part of `npm run bench` (`npx tsx bench/webhook-run.ts`).
import { printWebhook } from './print-webhook.js';
import { benchWebhook } from './webhook.js';

printWebhook(await benchWebhook());
