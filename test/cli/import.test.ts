import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { cli } from '../helpers/cli.js';
import { fixtureText } from '../helpers/migrate.js';

/** `portcullis import` as a command: where the output goes, and what the exit status says. */
describe('portcullis import', () => {
  it('prints the manifests on stdout, headed by the notes, and the notes on stderr; exit 1 when something was not carried over', async () => {
    const r = await cli(['import', 'ratify', '-'], { stdin: fixtureText('ratify-v1.yaml') });
    expect(r.status).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe(
      '# Converted by `portcullis import ratify`: review before applying (docs/migrating.md).',
    );
    expect(r.stdout).toContain('# warning: Verifier verifier-cosign (stdin#7)');
    const kinds = parseAllDocuments(r.stdout).map((d) => (d.toJS() as { kind: string }).kind);
    expect(kinds).toContain('ClusterTrustPolicy');
    expect(r.stderr).toContain('warning: Verifier verifier-cosign (stdin#7): verifier "cosign"');
    expect(r.stderr.trimEnd().split('\n').pop()).toBe(
      '5 manifest(s) written; 4 warning(s), 0 invalid resource(s): review them before applying (docs/migrating.md)',
    );
  });

  it('exits 0 when everything was carried over as it was', async () => {
    const verifier = {
      apiVersion: 'config.ratify.deislabs.io/v1beta1',
      kind: 'NamespacedVerifier',
      metadata: { name: 'v', namespace: 'team-a' },
      spec: {
        name: 'notation',
        parameters: {
          trustPolicyDoc: {
            version: '1.0',
            trustPolicies: [{ name: 'skip-all', registryScopes: ['*'], signatureVerification: { level: 'skip' } }],
          },
        },
      },
    };
    const r = await cli(['import', 'ratify', '-'], { stdin: JSON.stringify(verifier) });
    expect(r.stderr).toContain('0 warning(s), 0 invalid resource(s)\n');
    expect(r.status).toBe(0);
  });

  it('lists the resources Portcullis would refuse, with their code', async () => {
    const r = await cli(['import', 'ratify', '-'], { stdin: fixtureText('ratify-v1-akv.yaml') });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('invalid: ClusterTrustPolicy verifier-akv: trust store ca:akv-certs not found');
    expect(r.stderr).toContain('[ERR_TRUSTSTORE_NOT_FOUND]');
  });

  it('exits 2 with ERR_IMPORT_NOTHING_TO_CONVERT when the files hold nothing the importer converts', async () => {
    const r = await cli(['import', 'kyverno', '-'], { stdin: fixtureText('ratify-v1.yaml') });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('[ERR_IMPORT_NOTHING_TO_CONVERT]');
  });

  it('exits 2 for input that is not YAML, a missing file, or an unknown enforcementAction', async () => {
    expect((await cli(['import', 'ratify', '-'], { stdin: 'a: [' })).stderr).toMatch(
      /stdin: not valid YAML.*\[ERR_INPUT_INVALID\]/,
    );
    const missing = await cli(['import', 'ratify', '/nonexistent/ratify.yaml']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('[ERR_INPUT_INVALID]');
    const action = await cli(['import', 'kyverno', '--enforcement-action', 'audit', '-'], { stdin: '' });
    expect(action.status).toBe(2);
    expect(action.stderr).toContain('--enforcement-action audit: must be one of deny, warn, dryrun');
  });
});
