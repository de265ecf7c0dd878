import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConfigDir } from '../helpers/cli.js';
import { cli } from '../helpers/cli.js';
import { configDirsPerTest } from '../helpers/config-dirs.js';

const config = configDirsPerTest();

const INIT = [
  'policy',
  'init',
  '--name',
  'wabbit',
  '--trust-store',
  'ca:wabbit',
  '--trusted-identity',
  'x509.subject: CN=wabbit-networks.io, O=Notary, ST=WA, C=US',
];
const policyFile = (c: ConfigDir): string => join(c.path, 'trustpolicy.oci.json');

describe('portcullis policy init, import, show', () => {
  it('init writes one strict statement for every artifact by default, validated, mode 0600', async () => {
    const c = config();
    const r = await cli([...INIT, '--config-dir', c.path]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(policyFile(c), 'utf8'))).toEqual({
      version: '1.0',
      trustPolicies: [
        {
          name: 'wabbit',
          registryScopes: ['*'],
          signatureVerification: { level: 'strict' },
          trustStores: ['ca:wabbit'],
          trustedIdentities: ['x509.subject: CN=wabbit-networks.io, O=Notary, ST=WA, C=US'],
        },
      ],
    });
    expect(statSync(policyFile(c)).mode & 0o777).toBe(0o600);
    const scoped = await cli([
      ...INIT,
      '--config-dir',
      c.path,
      '--scope',
      'localhost:5000/a',
      '--scope',
      'localhost:5000/b',
      '--level',
      'audit',
      '--force',
    ]);
    expect(scoped.status).toBe(0);
    const doc = JSON.parse(readFileSync(policyFile(c), 'utf8')) as {
      trustPolicies: { registryScopes: string[]; signatureVerification: { level: string } }[];
    };
    expect(doc.trustPolicies[0]?.registryScopes).toEqual(['localhost:5000/a', 'localhost:5000/b']);
    expect(doc.trustPolicies[0]?.signatureVerification.level).toBe('audit');
  });

  it('never replaces a policy without --force', async () => {
    const c = config();
    expect((await cli([...INIT, '--config-dir', c.path])).status).toBe(0);
    const before = readFileSync(policyFile(c), 'utf8');
    const again = await cli([...INIT, '--config-dir', c.path, '--name', 'other']);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('[ERR_POLICY_EXISTS]');
    expect(again.stderr).toContain('--force');
    expect(readFileSync(policyFile(c), 'utf8')).toBe(before);
    const other = join(c.path, 'other.json');
    writeFileSync(
      other,
      JSON.stringify({
        version: '1.0',
        trustPolicies: [{ name: 'skip-all', registryScopes: ['*'], signatureVerification: { level: 'skip' } }],
      }),
    );
    expect((await cli(['policy', 'import', other, '--config-dir', c.path])).stderr).toContain('[ERR_POLICY_EXISTS]');
    expect(readFileSync(policyFile(c), 'utf8')).toBe(before);
    expect((await cli(['policy', 'import', other, '--config-dir', c.path, '--force'])).status).toBe(0);
    expect(readFileSync(policyFile(c), 'utf8')).toBe(`${readFileSync(other, 'utf8')}\n`);
  });

  it.each([
    [['--trust-store', 'wabbit'], 'ERR_POLICY_INVALID'],
    [['--trusted-identity', 'x509.subject: CN=a, CN=b'], 'ERR_POLICY_INVALID'],
    [['--scope', 'not a scope'], 'ERR_POLICY_INVALID'],
    [['--level', 'paranoid'], 'ERR_INPUT_INVALID'],
  ])('init validates before writing: %j is refused and nothing is written', async (extra, code) => {
    const c = config();
    const args = [...INIT];
    const flag = extra[0] as string;
    const at = args.indexOf(flag);
    if (at >= 0) args.splice(at, 2, ...extra);
    else args.push(...extra);
    const r = await cli([...args, '--config-dir', c.path]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`[${code}]`);
    expect(existsSync(policyFile(c))).toBe(false);
  });

  it('import refuses an invalid document, and replaces a legacy trustpolicy.json as notation does', async () => {
    const c = config().policy(
      {
        version: '1.0',
        trustPolicies: [{ name: 'old', registryScopes: ['*'], signatureVerification: { level: 'skip' } }],
      },
      'trustpolicy.json',
    );
    const bad = join(c.path, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        version: '1.0',
        trustPolicies: [
          { name: 'x', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:x'] },
        ],
      }),
    );
    const refused = await cli(['policy', 'import', bad, '--config-dir', c.path, '--force']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('[ERR_POLICY_INVALID]');
    expect(existsSync(join(c.path, 'trustpolicy.json'))).toBe(true);
    expect(existsSync(policyFile(c))).toBe(false);
    // policy show exports the policy in force; importing the export elsewhere gives the same document.
    const shown = await cli(['policy', 'show', '--config-dir', c.path]);
    expect(shown.stdout).toBe(`${readFileSync(join(c.path, 'trustpolicy.json'), 'utf8')}\n`);
    const exported = join(c.path, 'exported.json');
    writeFileSync(exported, shown.stdout);
    const imported = await cli(['policy', 'import', exported, '--config-dir', c.path, '--force']);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('Deleted the old trust policy');
    expect(existsSync(join(c.path, 'trustpolicy.json'))).toBe(false);
    expect((await cli(['policy', 'show', '--config-dir', c.path])).stdout).toBe(shown.stdout);
  });

  it('show without a policy says how to make one', async () => {
    const r = await cli(['policy', 'show', '--config-dir', config().path]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no trust policy found.*portcullis policy init.*\[ERR_POLICY_NOT_FOUND\]/);
  });
});

describe('portcullis cert add, show, delete, list', () => {
  it('add reports a certificate the store holds already, and never overwrites a different file of the same name', async () => {
    const c = config();
    expect((await cli(['cert', 'generate-test', '--config-dir', c.path, 'one'])).status).toBe(0);
    expect((await cli(['cert', 'generate-test', '--config-dir', c.path, '--key-type', 'ec', 'two'])).status).toBe(0);
    const one = join(c.path, 'localkeys', 'one.crt');
    const dup = await cli(['cert', 'add', '--config-dir', c.path, '-t', 'ca', '-s', 'one', one]);
    expect(dup.status).toBe(0);
    expect(dup.stdout).toContain('is already in trust store ca:one as one.crt; not added');
    expect(readdirSync(join(c.path, 'truststore', 'x509', 'ca', 'one'))).toEqual(['one.crt']);
    // two.crt renamed to one.crt: another certificate under a name the store uses.
    const renamed = join(c.path, 'one.crt');
    writeFileSync(renamed, readFileSync(join(c.path, 'localkeys', 'two.crt')));
    const clash = await cli(['cert', 'add', '--config-dir', c.path, '-t', 'ca', '-s', 'one', renamed]);
    expect(clash.status).toBe(2);
    expect(clash.stderr).toContain('already has a different file named one.crt');
    expect(readFileSync(join(c.path, 'truststore', 'x509', 'ca', 'one', 'one.crt'))).toEqual(readFileSync(one));
    const added = await cli([
      'cert',
      'add',
      '--config-dir',
      c.path,
      '-t',
      'ca',
      '-s',
      'one',
      join(c.path, 'localkeys', 'two.crt'),
    ]);
    expect(added.stdout).toContain('added');
    const list = await cli(['cert', 'list', '--config-dir', c.path, '--store', 'one', '-o', 'json']);
    expect(list.json<{ file: string }[]>().map((r) => r.file)).toEqual(['one.crt', 'two.crt']);
    expect((await cli(['cert', 'ls', '--config-dir', c.path, '--type', 'signingAuthority'])).stdout).toBe(
      'no trust store certificates\n',
    );
  });

  it('show prints subject, issuer, validity, fingerprint and key', async () => {
    const c = config();
    expect((await cli(['cert', 'generate-test', '--config-dir', c.path, '--key-type', 'ec', 'acme'])).status).toBe(0);
    const r = await cli(['cert', 'show', '--config-dir', c.path, '-t', 'ca', '-s', 'acme', 'acme.crt']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('subject: CN=acme,O=Notary,L=Seattle,ST=WA,C=US');
    expect(r.stdout).toContain('issuer: CN=acme,O=Notary,L=Seattle,ST=WA,C=US');
    expect(r.stdout).toMatch(/valid from: \d{4}-\d\d-\d\dT/);
    expect(r.stdout).toMatch(/SHA-256 fingerprint: [0-9a-f]{64}/);
    expect(r.stdout).toContain('key: EC-256');
    const json = (
      await cli(['cert', 'show', '--config-dir', c.path, '-t', 'ca', '-s', 'acme', 'acme.crt', '-o', 'json'])
    ).json<{ certificates: { key: string; selfSigned: boolean }[] }>();
    expect(json.certificates).toEqual([expect.objectContaining({ key: 'EC-256', selfSigned: true })]);
    expect(
      (await cli(['cert', 'show', '--config-dir', c.path, '-t', 'ca', '-s', 'acme', 'nope.crt'])).stderr,
    ).toContain('[ERR_CERT_NOT_FOUND]');
    expect(
      (await cli(['cert', 'show', '--config-dir', c.path, '-t', 'ca', '-s', 'acme', '../../../../etc/passwd'])).stderr,
    ).toContain('[ERR_INPUT_INVALID]');
  });

  it('delete needs --yes, removes one file or with --all the store', async () => {
    const c = config();
    expect((await cli(['cert', 'generate-test', '--config-dir', c.path, '--key-type', 'ec', 'acme'])).status).toBe(0);
    const store = join(c.path, 'truststore', 'x509', 'ca', 'acme');
    const unconfirmed = await cli(['cert', 'delete', '--config-dir', c.path, '-t', 'ca', '-s', 'acme', 'acme.crt']);
    expect(unconfirmed.status).toBe(2);
    expect(unconfirmed.stderr).toContain('needs --yes');
    expect(existsSync(join(store, 'acme.crt'))).toBe(true);
    const deleted = await cli([
      'cert',
      'delete',
      '--config-dir',
      c.path,
      '-t',
      'ca',
      '-s',
      'acme',
      'acme.crt',
      '--yes',
    ]);
    expect(deleted.stdout).toContain('Successfully deleted acme.crt from trust store ca:acme');
    expect(existsSync(store)).toBe(false);
    expect(
      (await cli(['cert', 'delete', '--config-dir', c.path, '-t', 'ca', '-s', 'acme', '--all', '-y'])).stderr,
    ).toContain('[ERR_TRUSTSTORE_NOT_FOUND]');
  });
});

describe('portcullis key list, add, delete, set-default', () => {
  it('manages signingkeys.json as notation does', async () => {
    const c = config();
    expect((await cli(['cert', 'generate-test', '--config-dir', c.path, '--key-type', 'ec', 'k1'])).status).toBe(0);
    expect((await cli(['cert', 'generate-test', '--config-dir', c.path, '--key-type', 'ec', 'k2'])).status).toBe(0);
    let list = await cli(['key', 'list', '--config-dir', c.path]);
    expect(list.stdout.split('\n')[0]).toMatch(/^NAME\s+KEY PATH\s+CERTIFICATE PATH\s+ID\s+PLUGIN NAME$/);
    expect(list.stdout).toMatch(/^\* k1 /m);
    expect(list.stdout).toMatch(/^ {2}k2 /m);
    expect((await cli(['key', 'set-default', 'k2', '--config-dir', c.path])).stdout).toBe('k2: marked as default\n');
    list = await cli(['key', 'ls', '--config-dir', c.path, '-o', 'json']);
    expect(list.json<{ default: string }>().default).toBe('k2');
    // A local key is checked before it is added: k1's key with k2's certificate does not sign.
    const mismatch = await cli([
      'key',
      'add',
      'wrong',
      '--key-file',
      join(c.path, 'localkeys', 'k1.key'),
      '--cert-file',
      join(c.path, 'localkeys', 'k2.crt'),
      '--config-dir',
      c.path,
    ]);
    expect(mismatch.status).toBe(2);
    expect(mismatch.stderr).toContain('[ERR_KEY_INVALID]');
    const ok = await cli([
      'key',
      'add',
      'again',
      '--key-file',
      join(c.path, 'localkeys', 'k1.key'),
      '--cert-file',
      join(c.path, 'localkeys', 'k1.crt'),
      '--default',
      '--config-dir',
      c.path,
    ]);
    expect(ok.stdout).toBe('again: marked as default\n');
    expect(
      (await cli(['key', 'add', 'again', '--plugin', 'kms', '--id', 'arn:1', '--config-dir', c.path])).stderr,
    ).toContain('[ERR_KEY_EXISTS]');
    expect(
      (
        await cli([
          'key',
          'add',
          'remote',
          '--plugin',
          'kms',
          '--id',
          'arn:1',
          '--plugin-config',
          'region=eu',
          '--config-dir',
          c.path,
        ])
      ).status,
    ).toBe(0);
    const keys = JSON.parse(readFileSync(join(c.path, 'signingkeys.json'), 'utf8')) as {
      default: string;
      keys: { name: string; id?: string; plugin?: { name: string; config?: Record<string, string> } }[];
    };
    expect(keys.keys.find((k) => k.name === 'remote')).toEqual({
      name: 'remote',
      id: 'arn:1',
      plugin: { name: 'kms', config: { region: 'eu' } },
    });
    const removed = await cli(['key', 'delete', 'again', 'k2', '--config-dir', c.path]);
    expect(removed.stdout).toContain('Removed default key again from the signing key list. The key files still exist.');
    expect(existsSync(join(c.path, 'localkeys', 'k1.key'))).toBe(true);
    const after = JSON.parse(readFileSync(join(c.path, 'signingkeys.json'), 'utf8')) as {
      default?: string;
      keys: { name: string }[];
    };
    expect(after.default).toBeUndefined();
    expect(after.keys.map((k) => k.name)).toEqual(['k1', 'remote']);
    expect((await cli(['key', 'delete', 'nope', '--config-dir', c.path])).stderr).toContain('[ERR_KEY_NOT_FOUND]');
  });
});
