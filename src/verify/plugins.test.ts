import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pki, codeSigningChain, type CodeSigningChain } from '../../test/helpers/pki.js';
import { makeArtifact, signArtifact } from '../../test/helpers/signed.js';
import { loadTrustPolicy, type TrustPolicyStatement } from '../policy/index.js';
import { parseCertificate } from '../x509/certificate.js';
import type { ExtendedAttribute } from '../envelope/index.js';
import { verifySignature } from './signature.js';
import type {
  PluginMetadataResponse,
  VerificationPlugin,
  VerificationPlugins,
  VerifySignatureRequest,
} from './plugins.js';
import type { RevocationChecker, SignatureVerification, TrustStores } from './types.js';

const TI = 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY';
const RC = 'SIGNATURE_VERIFIER.REVOCATION_CHECK';
const artifact = makeArtifact('plugin-core').descriptor;

/** A plugin double: scripted metadata and answers, every request kept. */
class FakePlugin implements VerificationPlugin {
  readonly requests: VerifySignatureRequest[] = [];
  metadataCalls = 0;
  constructor(
    readonly meta: Record<string, unknown>,
    readonly answer: (request: VerifySignatureRequest) => Record<string, unknown> | Promise<Record<string, unknown>>,
  ) {}
  async metadata(): Promise<PluginMetadataResponse> {
    this.metadataCalls++;
    return this.meta;
  }
  async verifySignature(request: VerifySignatureRequest): Promise<Record<string, unknown>> {
    this.requests.push(request);
    return this.answer(request);
  }
}

const installed = (plugins: Record<string, VerificationPlugin>): VerificationPlugins => ({
  find: async (name) => plugins[name],
});

function metadata(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'acme',
    description: 'test',
    version: '1.2.0',
    url: 'https://acme.invalid',
    supportedContractVersions: ['1.0'],
    capabilities: [TI, RC],
    ...overrides,
  };
}

/** Answers every asked capability with `success` and processes every asked attribute. */
const answerAll =
  (success: Record<string, boolean> = {}) =>
  (request: VerifySignatureRequest) => ({
    verificationResults: Object.fromEntries(
      request.trustPolicy.signatureVerification.map((c) => [
        c,
        success[c] === false ? { success: false, reason: `no ${c}` } : { success: true },
      ]),
    ),
    processedAttributes: [...request.signature.unprocessedAttributes],
  });

describe('verification plugins in the core (plugin-extensibility.md, "Verification workflow using plugin")', () => {
  const pki = new Pki();
  let chain: CodeSigningChain;
  let stores: TrustStores;

  beforeAll(() => {
    chain = codeSigningChain(pki, { leafKey: 'ec-256', name: 'Plugin Core' });
    const root = [parseCertificate(chain.root.certDer)];
    stores = { get: (type, name) => (type === 'ca' && name === 'acme' ? root : type === 'ca' ? [] : undefined) };
  });
  afterAll(() => pki.cleanup());

  const statement = (overrides: Record<string, unknown> = {}): TrustPolicyStatement =>
    loadTrustPolicy(
      JSON.stringify({
        version: '1.0',
        trustPolicies: [
          {
            name: 'acme',
            registryScopes: ['*'],
            signatureVerification: { level: 'strict' },
            trustStores: ['ca:acme'],
            trustedIdentities: ['x509.subject: C=US, ST=WA, O=Somebody Else', 'acme.team:builders'],
            ...overrides,
          },
        ],
      }),
    ).statements[0] as TrustPolicyStatement;

  const envelope = (plugin = 'acme', extra: ExtendedAttribute[] = [], minVersion?: string, expiry?: Date) =>
    signArtifact({
      keyPem: chain.leaf.keyPem,
      chainDer: chain.chainDer,
      artifact,
      ...(expiry === undefined ? {} : { expiry, signingTime: new Date(expiry.getTime() - 60_000) }),
      extendedAttributes: [
        { key: 'io.cncf.notary.verificationPlugin', value: plugin, critical: true },
        ...(minVersion === undefined
          ? []
          : [{ key: 'io.cncf.notary.verificationPluginMinVersion', value: minVersion, critical: true }]),
        ...extra,
      ],
    });

  async function verify(
    opts: {
      plugins?: VerificationPlugins;
      statement?: TrustPolicyStatement;
      signed?: { envelope: Uint8Array; mediaType: string };
      revocation?: RevocationChecker;
      pluginConfig?: Record<string, string>;
    } = {},
  ): Promise<SignatureVerification> {
    const signed = opts.signed ?? envelope();
    return verifySignature(
      { signature: 'sha256:sig', envelopeMediaType: signed.mediaType, envelope: signed.envelope, artifact },
      {
        statement: opts.statement ?? statement(),
        trustStores: stores,
        at: new Date(),
        ...(opts.plugins === undefined ? {} : { plugins: opts.plugins }),
        ...(opts.revocation === undefined ? {} : { revocation: opts.revocation }),
        ...(opts.pluginConfig === undefined ? {} : { pluginConfig: opts.pluginConfig }),
      },
    );
  }
  const status = (r: SignatureVerification) => Object.fromEntries(r.checks.map((c) => [c.check, c.status]));

  it('fails integrity when no plugin directory is configured, at every level', async () => {
    const r = await verify({ statement: statement({ signatureVerification: { level: 'audit' } }) });
    expect(r.failure?.check).toBe('integrity');
    expect(r.failure?.error.code).toBe('ERR_PLUGIN_REQUIRED');
  });

  it("fails integrity when the named plugin is not installed, in notation's words", async () => {
    const r = await verify({ plugins: installed({}) });
    expect(r.failure?.error.code).toBe('ERR_PLUGIN_REQUIRED');
    expect(r.failure?.error.message).toContain(
      'error while locating the verification plugin "acme", make sure the plugin is installed successfully before verifying the signature',
    );
  });

  it('lets a TRUSTED_IDENTITY plugin decide the identity, sending what the spec lists', async () => {
    const acme = new FakePlugin(metadata(), answerAll());
    const signed = envelope('acme', [{ key: 'io.portcullis.test.stage', value: 'prod', critical: true }], '1.0.0');
    const r = await verify({ plugins: installed({ acme }), signed, pluginConfig: { region: 'eu' } });
    // The x509 identity does not match the leaf: without the plugin this would fail authenticity.
    expect(r.passed).toBe(true);
    expect(status(r)).toMatchObject({ integrity: 'passed', authenticity: 'passed', revocation: 'passed' });
    expect(r.details?.plugin).toEqual({ name: 'acme', version: '1.2.0', capabilities: [TI, RC] });
    expect(acme.metadataCalls).toBe(1);
    const request = acme.requests[0] as VerifySignatureRequest;
    expect(request.contractVersion).toBe('1.0');
    expect(request.signature.criticalAttributes).toMatchObject({
      contentType: 'application/vnd.cncf.notary.payload.v1+json',
      signingScheme: 'notary.x509',
      verificationPlugin: 'acme',
      verificationPluginMinVersion: '1.0.0',
      extendedAttributes: { 'io.portcullis.test.stage': 'prod' },
    });
    expect(request.signature.unprocessedAttributes).toEqual(['io.portcullis.test.stage']);
    expect(request.signature.certificateChain).toEqual(chain.chainDer.map((d) => Buffer.from(d).toString('base64')));
    expect(request.trustPolicy).toEqual({
      trustedIdentities: ['x509.subject: C=US, ST=WA, O=Somebody Else', 'acme.team:builders'],
      signatureVerification: [TI, RC],
    });
    expect(request.pluginConfig).toEqual({ region: 'eu' });
  });

  it('still requires the chain to be trusted: the plugin is not even asked when the trust store fails', async () => {
    const acme = new FakePlugin(metadata(), answerAll());
    const untrusting: TrustStores = { get: () => [] };
    const signed = envelope();
    const r = await verifySignature(
      { signature: 's', envelopeMediaType: signed.mediaType, envelope: signed.envelope, artifact },
      { statement: statement(), trustStores: untrusting, at: new Date(), plugins: installed({ acme }) },
    );
    expect(r.failure?.check).toBe('authenticity');
    expect(acme.requests).toHaveLength(0);
  });

  it('does not run the plugin when a native check already rejected the signature', async () => {
    const acme = new FakePlugin(metadata(), answerAll());
    const signed = envelope('acme', [], undefined, new Date(Date.now() - 1000));
    const r = await verify({ plugins: installed({ acme }), signed });
    expect(r.failure?.check).toBe('expiry');
    expect(acme.requests).toHaveLength(0);
  });

  it.each([
    ['strict', false, 'failed'],
    ['audit', true, 'logged'],
  ] as const)('a rejected identity is an authenticity failure under %s (passes: %s)', async (level, passes, state) => {
    const acme = new FakePlugin(metadata({ capabilities: [TI] }), answerAll({ [TI]: false }));
    const r = await verify({
      plugins: installed({ acme }),
      statement: statement({ signatureVerification: { level } }),
    });
    expect(r.passed).toBe(passes);
    const authenticity = r.checks.find((c) => c.check === 'authenticity');
    expect(authenticity?.status).toBe(state);
    expect(authenticity?.error?.code).toBe('ERR_PLUGIN_REJECTED');
    expect(authenticity?.error?.message).toContain(`failed with reason "no ${TI}"`);
  });

  it('lets a REVOCATION_CHECK plugin answer revocation instead of the checker', async () => {
    let asked = 0;
    const checker: RevocationChecker = {
      check: async () => {
        asked++;
        return { status: 'good', certificates: [] };
      },
    };
    const acme = new FakePlugin(metadata({ capabilities: [RC] }), answerAll({ [RC]: false }));
    const r = await verify({
      plugins: installed({ acme }),
      revocation: checker,
      statement: statement({ trustedIdentities: ['*'] }),
    });
    expect(asked).toBe(0);
    expect(r.failure?.check).toBe('revocation');
    expect(r.failure?.error.message).toBe(
      `revocation check by verification plugin "acme" failed with reason "no ${RC}"`,
    );
  });

  it('does not ask for REVOCATION_CHECK when the statement skips revocation', async () => {
    const acme = new FakePlugin(metadata(), answerAll({ [RC]: false }));
    const r = await verify({
      plugins: installed({ acme }),
      statement: statement({ signatureVerification: { level: 'strict', override: { revocation: 'skip' } } }),
    });
    expect(r.passed).toBe(true);
    expect(acme.requests[0]?.trustPolicy.signatureVerification).toEqual([TI]);
    expect(status(r).revocation).toBe('skipped');
  });

  it('fails a critical attribute the plugin did not process, even under audit', async () => {
    const acme = new FakePlugin(metadata(), (request) => ({ ...answerAll()(request), processedAttributes: [] }));
    const r = await verify({
      plugins: installed({ acme }),
      signed: envelope('acme', [{ key: 'io.portcullis.test.stage', value: 'prod', critical: true }]),
      statement: statement({ signatureVerification: { level: 'audit' } }),
    });
    expect(r.passed).toBe(false);
    expect(r.failure).toMatchObject({ check: 'integrity', error: { code: 'ERR_ENVELOPE_CRITICAL_UNKNOWN' } });
    expect(r.failure?.error.message).toContain('was not processed by the verification plugin "acme"');
  });

  it('refuses a critical attribute that is not a JSON primitive (it cannot be handed over)', async () => {
    const acme = new FakePlugin(metadata(), answerAll());
    const r = await verify({
      plugins: installed({ acme }),
      signed: envelope('acme', [{ key: 'io.portcullis.test.obj', value: { a: 1 }, critical: true }]),
    });
    expect(r.failure).toMatchObject({ check: 'integrity', error: { code: 'ERR_ENVELOPE_CRITICAL_UNKNOWN' } });
    expect(acme.requests).toHaveLength(0);
  });

  it.each([
    [
      'a missing answer',
      (req: VerifySignatureRequest) => ({
        verificationResults: { [TI]: { success: true } },
        processedAttributes: [],
        req,
      }),
    ],
    [
      'an answer nobody asked for',
      () => ({
        verificationResults: { [TI]: { success: true }, [RC]: { success: true }, other: { success: true } },
        processedAttributes: [],
      }),
    ],
    [
      'a success that is not a boolean',
      () => ({ verificationResults: { [TI]: { success: 'yes' }, [RC]: { success: true } }, processedAttributes: [] }),
    ],
    ['no verificationResults', () => ({ processedAttributes: [] })],
  ])('treats %s as a broken plugin: the signature fails at every level', async (_name, answer) => {
    const acme = new FakePlugin(metadata(), answer as () => Record<string, unknown>);
    const r = await verify({
      plugins: installed({ acme }),
      statement: statement({ signatureVerification: { level: 'audit' } }),
    });
    expect(r.passed).toBe(false);
    expect(r.failure?.error.code).toBe('ERR_PLUGIN_FAILED');
    expect(r.failure?.check).toBe('authenticity');
  });

  it('treats a plugin that cannot be run as a failure at every level', async () => {
    const acme = new FakePlugin(metadata({ capabilities: [RC] }), () => {
      throw new Error('timed out after 10 ms');
    });
    const r = await verify({
      plugins: installed({ acme }),
      statement: statement({ signatureVerification: { level: 'permissive' }, trustedIdentities: ['*'] }),
    });
    expect(r.passed).toBe(false);
    expect(r.failure).toMatchObject({ check: 'revocation', error: { code: 'ERR_PLUGIN_FAILED' } });
    expect(r.failure?.error.message).toContain('timed out');
  });

  it.each([
    ['1.2.0', '1.2.0', true],
    ['1.2.0', '1.2.0-rc.1', true],
    ['1.2.0', '0.9.9', true],
    ['1.2.0-rc.1', '1.2.0', false],
    ['1.2.0', '1.2.1', false],
    ['1.2.0', '1.10.0', false],
  ])('plugin %s against minimum %s: allowed %s', async (version, min, allowed) => {
    const acme = new FakePlugin(metadata({ version }), answerAll());
    const r = await verify({ plugins: installed({ acme }), signed: envelope('acme', [], min) });
    expect(r.passed).toBe(allowed);
    if (!allowed) {
      expect(r.failure).toMatchObject({ check: 'integrity', error: { code: 'ERR_PLUGIN_VERSION' } });
      expect(r.failure?.error.message).toBe(
        `found plugin acme with version ${version} but signature verification needs plugin version greater than or equal to ${min}`,
      );
      expect(acme.requests).toHaveLength(0);
    }
  });

  it.each([
    ['a version that is not SemVer', { version: 'v1' }, 'ERR_PLUGIN_VERSION'],
    ['no SIGNATURE_VERIFIER capability', { capabilities: ['SIGNATURE_GENERATOR.RAW'] }, 'ERR_PLUGIN_REQUIRED'],
    ['another name', { name: 'evil' }, 'ERR_PLUGIN_FAILED'],
    ['another contract version', { supportedContractVersions: ['2.0'] }, 'ERR_PLUGIN_FAILED'],
  ])('refuses a plugin whose metadata has %s', async (_name, overrides, code) => {
    const acme = new FakePlugin(metadata(overrides), answerAll());
    const r = await verify({
      plugins: installed({ acme }),
      statement: statement({ signatureVerification: { level: 'audit' } }),
    });
    expect(r.failure).toMatchObject({ check: 'integrity', error: { code } });
    expect(acme.requests).toHaveLength(0);
  });

  it('keeps an untrusted-chain warning under audit even when the plugin accepts the identity', async () => {
    const acme = new FakePlugin(metadata({ capabilities: [TI] }), answerAll());
    const untrusting: TrustStores = { get: () => [] };
    const signed = envelope();
    const r = await verifySignature(
      { signature: 's', envelopeMediaType: signed.mediaType, envelope: signed.envelope, artifact },
      {
        statement: statement({ signatureVerification: { level: 'audit' } }),
        trustStores: untrusting,
        at: new Date(),
        plugins: installed({ acme }),
      },
    );
    expect(r.passed).toBe(true);
    const authenticity = r.checks.find((c) => c.check === 'authenticity');
    expect(authenticity?.status).toBe('logged');
    expect(authenticity?.error?.code).toBe('ERR_TRUSTSTORE_EMPTY_FOR_SCHEME');
  });
});
