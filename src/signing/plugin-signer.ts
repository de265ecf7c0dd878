import { type SigningKeyEntry } from '../notation-config/index.js';
import { PortcullisError } from '../errors/index.js';
import {
  verifyPrimitive,
  prepareCose,
  parseEnvelope,
  prepareEnvelope,
  type EnvelopeFormat,
  prepareJws,
  type SignRequest,
  type VerifiedEnvelope,
} from '../envelope/index.js';
import { MEDIA_TYPE } from '../oci/index.js';
import { decodeBase64, encodeBase64, type DigestAlgorithm } from '../util/index.js';
import {
  bytesEqual,
  parseCertificate,
  type Certificate,
  validateCertificateChain,
  keySpecName,
  checkChainValidAt,
  HASH_OF,
} from '../x509/index.js';
import {
  PLUGIN_CONTRACT_VERSION,
  PluginError,
  locatePlugin,
  runPluginCommand,
  type RunPluginOptions,
} from '../plugin/index.js';
import type { TimestampClient } from './timestamp-client.js';
import {
  checkChainValidForSigning,
  envelopeMediaType,
  finishEnvelope,
  type SignResult,
  type Signer,
} from './sign-common.js';
import { checkPayloadKept, isStringArray, keySpecOf, type KeySpec } from './plugin-contract.js';

export const PLUGIN_CAPABILITY = {
  signatureGenerator: 'SIGNATURE_GENERATOR.RAW',
  envelopeGenerator: 'SIGNATURE_GENERATOR.ENVELOPE',
} as const;

export interface PluginMetadata {
  readonly name: string;
  readonly description: string;
  readonly version: string;
  readonly url: string;
  readonly supportedContractVersions: readonly string[];
  readonly capabilities: readonly string[];
}

export interface PluginSignerOptions extends RunPluginOptions {
  /** The notation configuration directory; plugins live in `<configDir>/plugins/<name>/`. */
  readonly configDir: string;
  readonly pluginName: string;
  readonly keyId: string;
  /** `pluginConfig` of every request (signingkeys.json `plugin.config`, `--plugin-config`). */
  readonly pluginConfig?: Readonly<Record<string, string>>;
  /** Countersign with this RFC 3161 TSA (SIGNATURE_GENERATOR.RAW plugins only). */
  readonly timestampClient?: TimestampClient;
}

/**
 * Signs through a Notary signing plugin (specs/plugin-extensibility.md), so existing notation
 * plugins work. Metadata is fetched on every sign (the spec forbids caching). A plugin with
 * SIGNATURE_GENERATOR.RAW is preferred (as notation-go does): describe-key, then
 * generate-signature over the envelope's signing input; Portcullis assembles the envelope after
 * checking the signature against the returned leaf and the chain. Otherwise
 * SIGNATURE_GENERATOR.ENVELOPE: generate-envelope, and the returned envelope is checked
 * (type, integrity, payload, chain). Contract violations and bad results are ERR_PLUGIN_FAILED.
 */
export class PluginSigner implements Signer {
  readonly pluginName: string;
  readonly keyId: string;
  readonly #options: PluginSignerOptions;

  constructor(options: PluginSignerOptions) {
    if (options.keyId === '') throw new PortcullisError('ERR_INPUT_INVALID', 'a plugin key id must not be empty');
    this.pluginName = options.pluginName;
    this.keyId = options.keyId;
    this.#options = options;
  }

  /** From a signingkeys.json plugin entry `{name, id, plugin: {name, config?}}`. */
  static fromEntry(
    configDir: string,
    entry: SigningKeyEntry,
    options: Omit<PluginSignerOptions, 'configDir' | 'pluginName' | 'keyId'> = {},
  ): PluginSigner {
    if (entry.plugin === undefined || typeof entry.plugin.name !== 'string' || typeof entry.id !== 'string') {
      throw new PortcullisError(
        'ERR_CONFIG_INVALID',
        `signing key "${entry.name}" is not a plugin key (needs "id" and "plugin.name")`,
      );
    }
    const pluginConfig = { ...(entry.plugin.config ?? {}), ...(options.pluginConfig ?? {}) };
    return new PluginSigner({ ...options, configDir, pluginName: entry.plugin.name, keyId: entry.id, pluginConfig });
  }

  #fail(command: string, message: string, cause?: unknown): PluginError {
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    return new PluginError(
      this.pluginName,
      command,
      `plugin "${this.pluginName}" ${command}: ${message}${detail}`,
      cause === undefined ? {} : { cause },
    );
  }

  async #run(path: string, command: string, request: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { timeoutMs, maxOutputBytes, env } = this.#options;
    return runPluginCommand(this.pluginName, path, command, request, {
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(maxOutputBytes === undefined ? {} : { maxOutputBytes }),
      ...(env === undefined ? {} : { env }),
    });
  }

  get #pluginConfig(): Record<string, string> {
    return { ...(this.#options.pluginConfig ?? {}) };
  }

  /** Runs get-plugin-metadata and checks it (name, contract version 1.0). */
  async metadata(path?: string): Promise<PluginMetadata> {
    const executable = path ?? (await locatePlugin(this.#options.configDir, this.pluginName));
    const command = 'get-plugin-metadata';
    const response = await this.#run(executable, command, {
      contractVersion: PLUGIN_CONTRACT_VERSION,
      pluginConfig: this.#pluginConfig,
    });
    const { name, description, version, url, supportedContractVersions, capabilities } = response;
    if (typeof name !== 'string' || name === '') throw this.#fail(command, 'metadata has no name');
    if (name !== this.pluginName) {
      throw this.#fail(command, `metadata names the plugin "${name}", but it is installed as "${this.pluginName}"`);
    }
    if (typeof version !== 'string' || version === '') throw this.#fail(command, 'metadata has no version');
    if (!isStringArray(supportedContractVersions) || !isStringArray(capabilities)) {
      throw this.#fail(command, 'metadata must list supportedContractVersions and capabilities as string arrays');
    }
    if (!supportedContractVersions.includes(PLUGIN_CONTRACT_VERSION)) {
      throw this.#fail(
        command,
        `the plugin supports contract versions ${JSON.stringify(supportedContractVersions)}, not ${PLUGIN_CONTRACT_VERSION}`,
      );
    }
    return {
      name,
      description: typeof description === 'string' ? description : '',
      version,
      url: typeof url === 'string' ? url : '',
      supportedContractVersions,
      capabilities,
    };
  }

  /**
   * The hash a blob is described with when this key signs it: the one its key spec implies
   * (describe-key), as notation signs blobs with plugin keys.
   */
  async blobDigestAlgorithm(): Promise<DigestAlgorithm> {
    const path = await locatePlugin(this.#options.configDir, this.pluginName);
    await this.metadata(path);
    return HASH_OF[(await this.#describeKey(path)).spec.algorithm];
  }

  /** describe-key: the key spec fixes the algorithm before anything is signed. */
  async #describeKey(path: string): Promise<{ keySpec: string; spec: KeySpec }> {
    const command = 'describe-key';
    const described = await this.#run(path, command, {
      contractVersion: PLUGIN_CONTRACT_VERSION,
      keyId: this.keyId,
      pluginConfig: this.#pluginConfig,
    });
    if (described['keyId'] !== this.keyId) {
      throw this.#fail(
        command,
        `the response key id ${JSON.stringify(described['keyId'])} does not match the request's "${this.keyId}"`,
      );
    }
    const keySpec = described['keySpec'];
    const spec = keySpecOf(keySpec);
    if (spec === undefined) throw this.#fail(command, `key spec ${JSON.stringify(keySpec)} is not supported`);
    return { keySpec: keySpec as string, spec };
  }

  async sign(request: SignRequest, format: EnvelopeFormat): Promise<SignResult> {
    const path = await locatePlugin(this.#options.configDir, this.pluginName);
    const metadata = await this.metadata(path);
    if (metadata.capabilities.includes(PLUGIN_CAPABILITY.signatureGenerator))
      return this.#signRaw(path, request, format);
    if (metadata.capabilities.includes(PLUGIN_CAPABILITY.envelopeGenerator))
      return this.#signEnvelope(path, request, format);
    throw this.#fail(
      'get-plugin-metadata',
      `the plugin has no signing capability (capabilities ${JSON.stringify(metadata.capabilities)})`,
    );
  }

  async #signRaw(path: string, request: SignRequest, format: EnvelopeFormat): Promise<SignResult> {
    const { keySpec, spec } = await this.#describeKey(path);

    // The signing input does not depend on the certificates (they are unprotected headers).
    const signingInput = (format === 'jws' ? prepareJws : prepareCose)(request, spec.algorithm, []).signingInput;

    const command = 'generate-signature';
    const generated = await this.#run(path, command, {
      contractVersion: PLUGIN_CONTRACT_VERSION,
      keyId: this.keyId,
      keySpec,
      hashAlgorithm: spec.hashAlgorithm,
      pluginConfig: this.#pluginConfig,
      payload: encodeBase64(signingInput),
    });
    if (generated['keyId'] !== this.keyId) {
      throw this.#fail(
        command,
        `the response key id ${JSON.stringify(generated['keyId'])} does not match the request's "${this.keyId}"`,
      );
    }
    if (generated['signingAlgorithm'] !== spec.signingAlgorithm) {
      throw this.#fail(
        command,
        `signing algorithm ${JSON.stringify(generated['signingAlgorithm'])} does not match key spec ${keySpec} (want ${spec.signingAlgorithm})`,
      );
    }
    const signatureText = generated['signature'];
    const chainText = generated['certificateChain'];
    if (typeof signatureText !== 'string' || signatureText === '')
      throw this.#fail(command, 'the response has no signature');
    if (!isStringArray(chainText) || chainText.length === 0)
      throw this.#fail(command, 'the response has no certificate chain');
    let signature: Uint8Array;
    let chain: Certificate[];
    try {
      signature = decodeBase64(signatureText, 'signature', 'ERR_PLUGIN_FAILED');
      chain = chainText.map((c, i) => parseCertificate(decodeBase64(c, `certificateChain[${i}]`, 'ERR_PLUGIN_FAILED')));
    } catch (cause) {
      throw this.#fail(command, 'the response is malformed', cause);
    }
    const leaf = chain[0] as Certificate;
    if (keySpecName(leaf.key) !== keySpec) {
      throw this.#fail(
        command,
        `the leaf certificate key is ${keySpecName(leaf.key)}, but describe-key said ${keySpec}`,
      );
    }
    if (!verifyPrimitive(spec.algorithm, leaf.publicKey, signingInput, signature)) {
      throw this.#fail(command, `the signature does not verify with the leaf certificate "${leaf.subject}"`);
    }
    try {
      validateCertificateChain(chain, 'codeSigning');
    } catch (cause) {
      throw this.#fail(command, 'the certificate chain does not meet the Notary requirements', cause);
    }
    checkChainValidForSigning(chain, request, (cause) =>
      this.#fail(command, 'the certificate chain is not valid at the signing time', cause),
    );
    const prepared = prepareEnvelope(format, request, chain);
    if (prepared.algorithm !== spec.algorithm || !bytesEqual(prepared.signingInput, signingInput)) {
      throw new PortcullisError('ERR_INTERNAL', 'the envelope signing input changed between preparation and assembly');
    }
    const envelope = await finishEnvelope(
      format,
      request,
      spec.algorithm,
      chain,
      prepared.finish,
      signature,
      this.#options.timestampClient,
    );
    return { envelope, mediaType: envelopeMediaType(format), chain };
  }

  async #signEnvelope(path: string, request: SignRequest, format: EnvelopeFormat): Promise<SignResult> {
    const command = 'generate-envelope';
    if (this.#options.timestampClient !== undefined) {
      throw new PortcullisError(
        'ERR_INPUT_INVALID',
        `plugin "${this.pluginName}" generates whole envelopes (SIGNATURE_GENERATOR.ENVELOPE); timestamping is supported only for SIGNATURE_GENERATOR.RAW plugins`,
      );
    }
    const mediaType = envelopeMediaType(format);
    const payloadType = request.contentType ?? MEDIA_TYPE.notaryPayload;
    const expirySeconds =
      request.expiry === undefined
        ? undefined
        : Math.round((request.expiry.getTime() - request.signingTime.getTime()) / 1000);
    if (expirySeconds !== undefined && expirySeconds <= 0) {
      throw new PortcullisError('ERR_INPUT_INVALID', 'expiry must be after the signing time');
    }
    const response = await this.#run(path, command, {
      contractVersion: PLUGIN_CONTRACT_VERSION,
      keyId: this.keyId,
      payload: encodeBase64(request.payload),
      payloadType,
      signatureEnvelopeType: mediaType,
      pluginConfig: this.#pluginConfig,
      ...(expirySeconds === undefined ? {} : { expiryDurationInSeconds: expirySeconds }),
    });
    if (response['signatureEnvelopeType'] !== mediaType) {
      throw this.#fail(
        command,
        `the envelope type ${JSON.stringify(response['signatureEnvelopeType'])} is not the requested ${mediaType}`,
      );
    }
    const envelopeText = response['signatureEnvelope'];
    if (typeof envelopeText !== 'string' || envelopeText === '')
      throw this.#fail(command, 'the response has no signatureEnvelope');
    const annotations = response['annotations'];
    if (annotations !== undefined && annotations !== null) {
      if (
        typeof annotations !== 'object' ||
        Array.isArray(annotations) ||
        !Object.values(annotations).every((v) => typeof v === 'string')
      ) {
        throw this.#fail(command, 'annotations must be an object of strings');
      }
    }
    let envelope: Uint8Array;
    let parsed: VerifiedEnvelope;
    try {
      envelope = decodeBase64(envelopeText, 'signatureEnvelope', 'ERR_PLUGIN_FAILED');
      parsed = parseEnvelope(mediaType, envelope);
    } catch (cause) {
      throw this.#fail(command, 'the signature envelope does not verify', cause);
    }
    if (parsed.signed.contentType !== payloadType) {
      throw this.#fail(
        command,
        `the envelope payload content type "${parsed.signed.contentType}" is not ${payloadType}`,
      );
    }
    checkPayloadKept(request.payload, parsed.payload, (message, cause) => this.#fail(command, message, cause));
    const chain = parsed.unsigned.certificateChain;
    try {
      validateCertificateChain(chain, 'codeSigning');
    } catch (cause) {
      throw this.#fail(command, 'the certificate chain does not meet the Notary requirements', cause);
    }
    const signedAt = parsed.signed.signingTime ?? parsed.signed.authenticSigningTime;
    if (signedAt !== undefined) {
      try {
        checkChainValidAt(chain, signedAt, 'verification');
      } catch (cause) {
        throw this.#fail(command, 'the certificate chain is not valid at the envelope signing time', cause);
      }
    }
    if (expirySeconds !== undefined && parsed.signed.expiry === undefined) {
      throw this.#fail(command, 'an expiry was requested but the envelope has none');
    }
    return {
      envelope,
      mediaType,
      chain,
      ...(annotations === undefined || annotations === null
        ? {}
        : { annotations: { ...(annotations as Record<string, string>) } }),
    };
  }
}
