import { PortcullisError, toPortcullisError } from '../errors/index.js';
import type { VerifiedEnvelope } from '../envelope/index.js';
import type { CheckName, StatementCore } from '../policy/index.js';
import {
  buildVerifyRequest,
  criticalExtendedAttributes,
  readVerifyResponse,
  VERIFIER_CAPABILITY,
  type PreparedPlugin,
  type VerifierCapability,
} from './plugins.js';

/** What the plugin decided for one check; `fatal` failures reject the signature at every level. */
export interface PluginOutcome {
  readonly check: CheckName;
  readonly error: PortcullisError | undefined;
  readonly fatal: boolean;
}

const CHECK_OF: Readonly<Record<VerifierCapability, CheckName>> = {
  [VERIFIER_CAPABILITY.trustedIdentity]: 'authenticity',
  [VERIFIER_CAPABILITY.revocationCheck]: 'revocation',
};

/**
 * Workflow steps 5–7 of "Verification workflow using plugin": ask the plugin for its
 * capabilities the statement needs (REVOCATION_CHECK is not asked when revocation is `skip`),
 * then read its answer. A trusted identity the plugin rejects is an authenticity failure, a
 * revocation it rejects a revocation failure, each enforced or logged by the statement; a plugin
 * that cannot be run or breaks the contract fails the signature whatever the level (under
 * authenticity when it was asked for identities, else under revocation), and a critical
 * attribute it did not process fails integrity.
 */
export async function runPlugin(
  plugin: PreparedPlugin,
  envelope: VerifiedEnvelope,
  statement: StatementCore,
  pluginConfig: Readonly<Record<string, string>>,
): Promise<PluginOutcome[]> {
  const capabilities = plugin.capabilities.filter(
    (c) => !(c === VERIFIER_CAPABILITY.revocationCheck && statement.actions.revocation === 'skip'),
  );
  if (capabilities.length === 0) {
    // Nothing to ask; the critical attributes would then be processed by nobody.
    const unprocessed = criticalExtendedAttributes(envelope).map((a) => a.key);
    if (unprocessed.length === 0) return [];
    return [
      {
        check: 'integrity',
        fatal: true,
        error: new PortcullisError(
          'ERR_ENVELOPE_CRITICAL_UNKNOWN',
          `critical extended attribute(s) ${unprocessed.map((k) => `"${k}"`).join(', ')} cannot be processed: the trust policy skips revocation, the only capability of verification plugin "${plugin.name}"`,
        ),
      },
    ];
  }
  const failedCheck: CheckName = capabilities.includes(VERIFIER_CAPABILITY.trustedIdentity)
    ? 'authenticity'
    : 'revocation';
  let verdicts;
  try {
    const request = buildVerifyRequest(envelope, statement, capabilities, pluginConfig);
    verdicts = readVerifyResponse(plugin.name, request, await plugin.plugin.verifySignature(request));
  } catch (thrown) {
    const error = toPortcullisError(thrown, 'ERR_PLUGIN_FAILED', `plugin "${plugin.name}" verify-signature`);
    return [{ check: error.code === 'ERR_ENVELOPE_CRITICAL_UNKNOWN' ? 'integrity' : failedCheck, error, fatal: true }];
  }
  return verdicts.map((v) => ({
    check: CHECK_OF[v.capability],
    fatal: false,
    error: v.success
      ? undefined
      : new PortcullisError(
          'ERR_PLUGIN_REJECTED',
          v.capability === VERIFIER_CAPABILITY.trustedIdentity
            ? `trusted identity verification by plugin "${plugin.name}" failed with reason "${v.reason}"`
            : `revocation check by verification plugin "${plugin.name}" failed with reason "${v.reason}"`,
        ),
  }));
}
