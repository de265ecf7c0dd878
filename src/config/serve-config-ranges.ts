import type { PortcullisError } from '../errors/index.js';
import type { ServeConfig } from './serve-config.js';

/** The checks of a configuration that span a field's range or several fields (after the types are checked). */
export function checkRanges(config: ServeConfig, invalid: (path: string, message: string) => PortcullisError): void {
  if (config.webhook.timeoutSeconds < 1 || config.webhook.timeoutSeconds > 30)
    throw invalid('webhook.timeoutSeconds', 'must be 1..30 (the API server allows at most 30)');
  if (config.verification.maxSignatureAttempts < 1)
    throw invalid('verification.maxSignatureAttempts', 'must be at least 1');
  for (const key of [
    'maxHostsPerReview',
    'maxImagesPerReview',
    'maxConcurrentPerReview',
    'maxConcurrentPerRegistry',
  ] as const) {
    if (!Number.isInteger(config.registries[key]) || config.registries[key] < 1)
      throw invalid(`registries.${key}`, 'must be a whole number, at least 1');
  }
  // Below the 4 MiB cap of one manifest or signature, such a read could never be buffered.
  if (!Number.isInteger(config.registries.maxBufferedBytes) || config.registries.maxBufferedBytes < 4 * 1024 * 1024)
    throw invalid('registries.maxBufferedBytes', 'must be a whole number of bytes, at least 4194304 (4 MiB)');
  const perRegistry = config.registries.maxBufferedBytesPerRegistry;
  if (
    perRegistry !== undefined &&
    (!Number.isInteger(perRegistry) ||
      perRegistry < 4 * 1024 * 1024 ||
      perRegistry > config.registries.maxBufferedBytes)
  )
    throw invalid(
      'registries.maxBufferedBytesPerRegistry',
      'must be a whole number of bytes, at least 4194304 (4 MiB) and at most registries.maxBufferedBytes',
    );
  if (config.kubernetes.statusQps <= 0) throw invalid('kubernetes.statusQps', 'must be more than 0');
  if (!Number.isInteger(config.kubernetes.statusBurst) || config.kubernetes.statusBurst < 1)
    throw invalid('kubernetes.statusBurst', 'must be a whole number, at least 1');
  if (config.plugins.timeoutSeconds <= 0) throw invalid('plugins.timeoutSeconds', 'must be more than 0');
  if (!Number.isInteger(config.plugins.maxConcurrent) || config.plugins.maxConcurrent < 1)
    throw invalid('plugins.maxConcurrent', 'must be a whole number, at least 1');
  if (config.dns.attempts !== undefined && (!Number.isInteger(config.dns.attempts) || config.dns.attempts < 1))
    throw invalid('dns.attempts', 'must be a whole number, at least 1');
  if (config.dns.timeoutMilliseconds !== undefined && config.dns.timeoutMilliseconds < 1)
    throw invalid('dns.timeoutMilliseconds', 'must be at least 1');
  for (const key of ['concurrency', 'pageSize'] as const) {
    if (!Number.isInteger(config.audit[key]) || config.audit[key] < 1)
      throw invalid(`audit.${key}`, 'must be a whole number, at least 1');
  }
  if (config.audit.pageSize > 5000) throw invalid('audit.pageSize', 'must be at most 5000');
  if (config.audit.leaseDurationSeconds < 3) throw invalid('audit.leaseDurationSeconds', 'must be at least 3');
  if (!Number.isInteger(config.metrics.port) || config.metrics.port > 65535)
    throw invalid('metrics.port', 'must be a port number (0 = the webhook port)');
  if (config.events.perSecond <= 0 || config.events.burst < 1)
    throw invalid('events', 'perSecond must be more than 0 and burst at least 1');
  if (config.memory.idleCollectionSeconds < 0 || config.memory.idleCollectionSeconds > 3600)
    throw invalid('memory.idleCollectionSeconds', 'must be 0..3600 (0 = never)');
  if (!Number.isInteger(config.memory.idleCollectionMinReviews) || config.memory.idleCollectionMinReviews < 1)
    throw invalid('memory.idleCollectionMinReviews', 'must be a whole number, at least 1');
}
