import { PortcullisError } from '../errors/index.js';
import type { VerifiedEnvelope } from '../envelope/index.js';
import type { StatementCore } from '../policy/index.js';
import { encodeBase64 } from '../util/index.js';
import { compareSemVer, parseSemVer } from '../util/index.js';

/**
 * Verification plugins (specs/plugin-extensibility.md, "Verification extensibility"; notation-go
 * verifier.go processSignature). The core decides everything the spec decides — which plugin,
 * whether its version and capabilities suffice, what the request says, whether the response
 * answers it — and only asks an injected `VerificationPlugins` to run the plugin, as it asks a
 * RevocationChecker to fetch revocation answers. Running processes is an adapter's job
 * (src/plugin), never the core's.
 */

export const PLUGIN_CONTRACT_VERSION = '1.0';

export const VERIFIER_CAPABILITY = {
  trustedIdentity: 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY',
  revocationCheck: 'SIGNATURE_VERIFIER.REVOCATION_CHECK',
} as const;
export type VerifierCapability = (typeof VERIFIER_CAPABILITY)[keyof typeof VERIFIER_CAPABILITY];
const VERIFIER_CAPABILITIES: readonly string[] = Object.values(VERIFIER_CAPABILITY);

/** The `get-plugin-metadata` response as the plugin wrote it (unvalidated: the core checks it). */
export interface PluginMetadataResponse {
  readonly [key: string]: unknown;
}

/** The `verify-signature` request (plugin-extensibility.md, "verify-signature command"). */
export interface VerifySignatureRequest {
  readonly contractVersion: string;
  readonly signature: {
    readonly criticalAttributes: {
      readonly contentType: string;
      readonly signingScheme: string;
      readonly expiry?: string;
      readonly authenticSigningTime?: string;
      readonly verificationPlugin: string;
      readonly verificationPluginMinVersion?: string;
      readonly extendedAttributes?: Readonly<Record<string, string | number | boolean | null>>;
    };
    readonly unprocessedAttributes: readonly string[];
    /** Base64 DER, leaf first. */
    readonly certificateChain: readonly string[];
  };
  readonly trustPolicy: {
    readonly trustedIdentities: readonly string[];
    readonly signatureVerification: readonly VerifierCapability[];
  };
  readonly pluginConfig?: Readonly<Record<string, string>>;
}

/** One installed plugin. Each call runs it once; failures to run it throw (ERR_PLUGIN_FAILED). */
export interface VerificationPlugin {
  /** `get-plugin-metadata`; called for every signature (the spec forbids caching it). */
  metadata(pluginConfig: Readonly<Record<string, string>>): Promise<PluginMetadataResponse>;
  /** `verify-signature`: the parsed JSON object the plugin answered. */
  verifySignature(request: VerifySignatureRequest): Promise<Readonly<Record<string, unknown>>>;
}

/** Where plugins are installed (the notation plugin directory, a webhook volume, a test). */
export interface VerificationPlugins {
  /** The plugin installed under `name`, or undefined when there is none. */
  find(name: string): Promise<VerificationPlugin | undefined>;
}

/** A plugin found, checked and ready for the signature that names it. */
export interface PreparedPlugin {
  readonly name: string;
  readonly version: string;
  readonly plugin: VerificationPlugin;
  /** Its SIGNATURE_VERIFIER capabilities. */
  readonly capabilities: readonly VerifierCapability[];
}

function pluginError(code: 'ERR_PLUGIN_REQUIRED' | 'ERR_PLUGIN_VERSION' | 'ERR_PLUGIN_FAILED', message: string) {
  return new PortcullisError(code, message);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/**
 * Step 1 of "Verification workflow using plugin": find the plugin the signature names, read its
 * metadata, check its version against `verificationPluginMinVersion` and that it can verify.
 * Every failure here fails the signature whatever the trust policy level (notation: "verification
 * inconclusive"), so the caller reports it under integrity.
 */
export async function preparePlugin(
  envelope: VerifiedEnvelope,
  plugins: VerificationPlugins | undefined,
  pluginConfig: Readonly<Record<string, string>>,
): Promise<PreparedPlugin> {
  const name = envelope.signed.verificationPlugin as string;
  const minVersion = envelope.signed.verificationPluginMinVersion;
  const needs = minVersion === undefined ? '' : ` (version >= ${minVersion})`;
  if (plugins === undefined) {
    throw pluginError(
      'ERR_PLUGIN_REQUIRED',
      `digital signature requires verification plugin "${name}"${needs}, and no plugin directory is configured`,
    );
  }
  const plugin = await plugins.find(name);
  if (plugin === undefined) {
    throw pluginError(
      'ERR_PLUGIN_REQUIRED',
      `error while locating the verification plugin "${name}"${needs}, make sure the plugin is installed successfully before verifying the signature`,
    );
  }
  const metadata = await plugin.metadata(pluginConfig);
  const { version, capabilities, supportedContractVersions } = metadata;
  const broken = (what: string) => pluginError('ERR_PLUGIN_FAILED', `plugin "${name}" get-plugin-metadata: ${what}`);
  if (metadata['name'] !== name) {
    throw broken(`metadata names the plugin ${JSON.stringify(metadata['name'])}, but it is installed as "${name}"`);
  }
  if (typeof version !== 'string' || version === '') throw broken('metadata has no version');
  if (!isStringArray(capabilities) || !isStringArray(supportedContractVersions)) {
    throw broken('metadata must list capabilities and supportedContractVersions as string arrays');
  }
  if (!supportedContractVersions.includes(PLUGIN_CONTRACT_VERSION)) {
    throw broken(
      `the plugin supports contract versions ${JSON.stringify(supportedContractVersions)}, not ${PLUGIN_CONTRACT_VERSION}`,
    );
  }
  const installed = parseSemVer(version);
  if (installed === undefined) {
    throw pluginError(
      'ERR_PLUGIN_VERSION',
      `plugin ${name} has pluginVersion ${version} which is not in valid semver format`,
    );
  }
  if (minVersion !== undefined) {
    const min = parseSemVer(minVersion);
    if (min === undefined) {
      throw pluginError(
        'ERR_PLUGIN_VERSION',
        `io.cncf.notary.verificationPluginMinVersion from extended attribute is not a valid SemVer: ${JSON.stringify(minVersion)}`,
      );
    }
    if (compareSemVer(installed, min) < 0) {
      throw pluginError(
        'ERR_PLUGIN_VERSION',
        `found plugin ${name} with version ${version} but signature verification needs plugin version greater than or equal to ${minVersion}`,
      );
    }
  }
  const verifier = capabilities.filter((c): c is VerifierCapability => VERIFIER_CAPABILITIES.includes(c));
  if (verifier.length === 0) {
    throw pluginError(
      'ERR_PLUGIN_REQUIRED',
      `digital signature requires plugin "${name}" with signature verification capabilities ("${VERIFIER_CAPABILITY.trustedIdentity}" and/or "${VERIFIER_CAPABILITY.revocationCheck}") installed`,
    );
  }
  return { name, version, plugin, capabilities: [...new Set(verifier)] };
}

/** The trusted identities as the statement lists them (the plugin reads its own prefixes). */
function trustedIdentitiesOf(statement: StatementCore): string[] {
  return [...statement.trustedIdentities];
}

/** Critical extended attributes: the ones a plugin must process (the Notary headers are not extended). */
export function criticalExtendedAttributes(envelope: VerifiedEnvelope): { key: string; value: unknown }[] {
  return envelope.signed.extendedAttributes.filter((a) => a.critical).map((a) => ({ key: a.key, value: a.value }));
}

/**
 * The `verify-signature` request (workflow step 5). Extended attributes must be JSON primitives
 * ("Notation only supports JSON primitive types for critical extended attributes"); another
 * value (a COSE byte string, an object) cannot be handed over, and the signature fails.
 */
export function buildVerifyRequest(
  envelope: VerifiedEnvelope,
  statement: StatementCore,
  capabilities: readonly VerifierCapability[],
  pluginConfig: Readonly<Record<string, string>>,
): VerifySignatureRequest {
  const s = envelope.signed;
  const extended: Record<string, string | number | boolean | null> = {};
  const unprocessed: string[] = [];
  for (const { key, value } of criticalExtendedAttributes(envelope)) {
    if (value !== null && typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new PortcullisError(
        'ERR_ENVELOPE_CRITICAL_UNKNOWN',
        `critical extended attribute "${key}" is not a JSON primitive value and cannot be passed to verification plugin "${s.verificationPlugin ?? ''}"`,
      );
    }
    // A key such as "__proto__" must become a member, not the object's prototype.
    Object.defineProperty(extended, key, { value, enumerable: true, writable: true, configurable: true });
    unprocessed.push(key);
  }
  return {
    contractVersion: PLUGIN_CONTRACT_VERSION,
    signature: {
      criticalAttributes: {
        contentType: s.contentType,
        signingScheme: s.signingScheme,
        ...(s.expiry === undefined ? {} : { expiry: s.expiry.toISOString() }),
        ...(s.authenticSigningTime === undefined ? {} : { authenticSigningTime: s.authenticSigningTime.toISOString() }),
        verificationPlugin: s.verificationPlugin as string,
        ...(s.verificationPluginMinVersion === undefined
          ? {}
          : { verificationPluginMinVersion: s.verificationPluginMinVersion }),
        ...(unprocessed.length === 0 ? {} : { extendedAttributes: extended }),
      },
      unprocessedAttributes: unprocessed,
      certificateChain: envelope.unsigned.certificateChain.map((c) => encodeBase64(c.der)),
    },
    trustPolicy: { trustedIdentities: trustedIdentitiesOf(statement), signatureVerification: [...capabilities] },
    pluginConfig: { ...pluginConfig },
  };
}

export interface PluginVerdict {
  readonly capability: VerifierCapability;
  readonly success: boolean;
  readonly reason: string;
}

/**
 * Workflow step 6: the response must answer exactly the capabilities asked (a missing answer or
 * one nobody asked for breaks the contract) and must have processed every critical attribute
 * the request listed. Contract violations throw ERR_PLUGIN_FAILED (the signature fails at every
 * level); a capability the plugin answered with `success: false` is a verdict the caller
 * enforces or logs per the trust policy.
 */
export function readVerifyResponse(
  name: string,
  request: VerifySignatureRequest,
  response: Readonly<Record<string, unknown>>,
): PluginVerdict[] {
  const broken = (what: string) => pluginError('ERR_PLUGIN_FAILED', `plugin "${name}" verify-signature: ${what}`);
  const results = response['verificationResults'];
  if (typeof results !== 'object' || results === null || Array.isArray(results)) {
    throw broken('the response has no verificationResults object');
  }
  const asked = request.trustPolicy.signatureVerification;
  for (const key of Object.keys(results)) {
    if (!(asked as readonly string[]).includes(key))
      throw broken(`the response answers ${JSON.stringify(key)}, which was not asked`);
  }
  const verdicts: PluginVerdict[] = [];
  for (const capability of asked) {
    const result = (results as Record<string, unknown>)[capability];
    if (typeof result !== 'object' || result === null || Array.isArray(result)) {
      throw broken(`verification plugin "${name}" failed to verify "${capability}" (no result)`);
    }
    const { success, reason } = result as { success?: unknown; reason?: unknown };
    if (typeof success !== 'boolean') throw broken(`the result for "${capability}" has no boolean success`);
    if (reason !== undefined && typeof reason !== 'string')
      throw broken(`the reason for "${capability}" is not a string`);
    verdicts.push({ capability, success, reason: reason ?? '' });
  }
  const processed = response['processedAttributes'] ?? [];
  if (!isStringArray(processed)) throw broken('processedAttributes is not an array of strings');
  for (const key of request.signature.unprocessedAttributes) {
    if (!processed.includes(key)) {
      throw new PortcullisError(
        'ERR_ENVELOPE_CRITICAL_UNKNOWN',
        `extended critical attribute "${key}" was not processed by the verification plugin "${name}" (all extended critical attributes must be processed by the verification plugin)`,
      );
    }
  }
  return verdicts;
}
