import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolveKeyPath, type SigningKeyEntry } from '../notation-config/index.js';
import { PortcullisError } from '../errors/index.js';
import {
  signPrimitive,
  keyMatches,
  prepareEnvelope,
  type EnvelopeFormat,
  type SignatureAlgorithm,
  type SignRequest,
} from '../envelope/index.js';
import {
  parseCertificateFile,
  type Certificate,
  validateCertificateChain,
  signatureAlgorithmForKey,
} from '../x509/index.js';
import type { DigestAlgorithm } from '../util/index.js';
import { HASH_OF } from '../x509/index.js';
import type { TimestampClient } from './timestamp-client.js';
import {
  checkChainValidForSigning,
  envelopeMediaType,
  finishEnvelope,
  keyInvalid,
  type SignResult,
  type Signer,
} from './sign-common.js';
import { PluginSigner } from './plugin-signer.js';

export { envelopeMediaType } from './sign-common.js';
export type { SignResult, Signer } from './sign-common.js';
export { PLUGIN_CAPABILITY, PluginSigner } from './plugin-signer.js';
export type { PluginMetadata, PluginSignerOptions } from './plugin-signer.js';

export interface LocalKeySignerOptions {
  /** Countersign every signature with this RFC 3161 TSA. */
  readonly timestampClient?: TimestampClient;
}

/**
 * Signs with a local private key and its certificate chain, as notation does for keys made by
 * `cert generate-test` (signingkeys.json `keyPath` / `certPath`). The chain must meet the Notary
 * code-signing requirements and the key must be the leaf's; both are checked up front
 * (ERR_KEY_INVALID), and the chain must be valid at the signing time.
 */
export class LocalKeySigner implements Signer {
  readonly chain: readonly Certificate[];
  readonly algorithm: SignatureAlgorithm;
  readonly #key: KeyObject;
  readonly #timestampClient: TimestampClient | undefined;

  constructor(privateKey: KeyObject, chain: readonly Certificate[], options: LocalKeySignerOptions = {}) {
    const leaf = chain[0];
    if (leaf === undefined) throw keyInvalid('the signing certificate chain is empty');
    if (privateKey.type !== 'private') throw keyInvalid('the signing key is not a private key');
    try {
      validateCertificateChain(chain, 'codeSigning');
    } catch (cause) {
      throw keyInvalid('the signing certificate chain does not meet the Notary requirements', cause);
    }
    try {
      this.algorithm = signatureAlgorithmForKey(leaf.key, leaf.subject);
    } catch (cause) {
      throw keyInvalid('the signing certificate key is not supported', cause);
    }
    if (!keyMatches(privateKey, leaf.publicKey)) {
      throw keyInvalid(`the private key does not belong to the certificate "${leaf.subject}"`);
    }
    this.chain = chain;
    this.#key = privateKey;
    this.#timestampClient = options.timestampClient;
  }

  /** From PEM key text (PKCS#8, PKCS#1 or SEC1; unencrypted) and PEM or DER certificate bytes. */
  static fromPem(
    keyPem: string | Uint8Array,
    certificates: Uint8Array,
    options: LocalKeySignerOptions = {},
  ): LocalKeySigner {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: typeof keyPem === 'string' ? keyPem : Buffer.from(keyPem), format: 'pem' });
    } catch (cause) {
      throw keyInvalid('the signing key is not an unencrypted PEM private key', cause);
    }
    let chain: Certificate[];
    try {
      chain = parseCertificateFile(certificates);
    } catch (cause) {
      throw keyInvalid('the signing certificate file cannot be read', cause);
    }
    return new LocalKeySigner(key, chain, options);
  }

  /** From a signingkeys.json entry with keyPath and certPath (relative paths are under configDir). */
  static async fromEntry(
    configDir: string,
    entry: SigningKeyEntry,
    options: LocalKeySignerOptions = {},
  ): Promise<LocalKeySigner> {
    if (entry.keyPath === undefined || entry.certPath === undefined) {
      throw new PortcullisError(
        'ERR_CONFIG_INVALID',
        `signing key "${entry.name}" has no keyPath/certPath (is it a plugin key?)`,
      );
    }
    const keyPath = resolveKeyPath(configDir, entry.keyPath);
    const certPath = resolveKeyPath(configDir, entry.certPath);
    const read = async (path: string): Promise<Buffer> => {
      try {
        return await readFile(path);
      } catch (cause) {
        throw keyInvalid(`signing key "${entry.name}": cannot read ${path}`, cause);
      }
    };
    const [keyBytes, certBytes] = await Promise.all([read(keyPath), read(certPath)]);
    try {
      return LocalKeySigner.fromPem(new Uint8Array(keyBytes), new Uint8Array(certBytes), options);
    } catch (error) {
      if (error instanceof PortcullisError) {
        throw new PortcullisError(error.code, `signing key "${entry.name}": ${error.message}`, {
          cause: error,
          context: { subject: keyPath },
        });
      }
      throw error;
    }
  }

  /** The hash a blob is described with when this key signs it: the key's (notation signs blobs so). */
  async blobDigestAlgorithm(): Promise<DigestAlgorithm> {
    return HASH_OF[this.algorithm];
  }

  async sign(request: SignRequest, format: EnvelopeFormat): Promise<SignResult> {
    checkChainValidForSigning(this.chain, request, (cause) =>
      keyInvalid('the signing certificate chain is not valid at the signing time', cause),
    );
    const prepared = prepareEnvelope(format, request, this.chain);
    const signature = signPrimitive(prepared.algorithm, this.#key, prepared.signingInput);
    const envelope = await finishEnvelope(
      format,
      request,
      prepared.algorithm,
      this.chain,
      prepared.finish,
      signature,
      this.#timestampClient,
    );
    return { envelope, mediaType: envelopeMediaType(format), chain: this.chain };
  }
}

/** A signer for a signingkeys.json entry: a local key, or a plugin key. */
export async function signerForKey(
  configDir: string,
  entry: SigningKeyEntry,
  options: {
    readonly timestampClient?: TimestampClient;
    readonly pluginConfig?: Readonly<Record<string, string>>;
  } = {},
): Promise<Signer> {
  if (entry.plugin !== undefined) return PluginSigner.fromEntry(configDir, entry, options);
  const { timestampClient } = options;
  return LocalKeySigner.fromEntry(configDir, entry, timestampClient === undefined ? {} : { timestampClient });
}
