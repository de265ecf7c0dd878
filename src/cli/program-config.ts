import type { Command } from 'commander';
import type { CliIo } from './io.js';
import { collect } from './pairs.js';
import type { Act } from './program.js';

/** The commands of notation's configuration directory: trust policy, trust stores, signing keys. */
export function addConfigCommands(program: Command, act: Act, io: CliIo): void {
  // --- trust policy --------------------------------------------------------------------------
  const policy = program
    .command('policy')
    .description('trust policy commands (trustpolicy.oci.json in the configuration directory)');
  policy
    .command('init')
    .description('write a trust policy with one statement (strict verification by default)')
    .requiredOption('-n, --name <name>', 'statement name')
    .option(
      '--scope <registry/repository>',
      'registry scope the statement covers (repeatable; default *: every artifact)',
      collect,
    )
    .option('--trust-store <type:name>', 'trust store, e.g. ca:wabbit-networks.io (repeatable)', collect)
    .option(
      '--trusted-identity <identity>',
      'trusted identity, e.g. "x509.subject: CN=wabbit-networks.io, O=Notary" or * (repeatable)',
      collect,
    )
    .option('--level <level>', 'strict, permissive, audit or skip', 'strict')
    .option('--force', 'replace an existing trust policy')
    .action(act('policy', (m, _args, opts) => m.policyInitCommand(opts, io)));
  policy
    .command('import')
    .description('validate a trust policy document and make it the one in force')
    .argument('<file>', 'trust policy JSON file')
    .option('--force', 'replace an existing trust policy')
    .action(act('policy', (m, [file], opts) => m.policyImportCommand(file as string, opts, io)));
  policy
    .command('show')
    .description('print the trust policy in force, as stored (policy show > file exports it)')
    .option(
      '-o, --output <format>',
      'text (the document as stored) or json (with the file path and the effective statements)',
      'text',
    )
    .action(act('policy', (m, _args, opts) => m.policyShowCommand(opts, io)));
  policy
    .command('validate')
    .description('validate a trust policy document (default: the one in the configuration directory)')
    .argument('[file]', 'trust policy JSON file')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(act('policy', (m, [file], opts) => m.policyValidateCommand(file, opts, io)));

  // --- trust stores and test certificates ----------------------------------------------------
  const cert = program
    .command('cert')
    .alias('certificate')
    .description('trust store commands (truststore/x509/<type>/<name>/ in the configuration directory)');
  cert
    .command('add')
    .description('add certificates to a trust store (validated as verification will read them)')
    .requiredOption('-t, --type <type>', 'ca, signingAuthority or tsa')
    .requiredOption('-s, --store <name>', 'trust store name')
    .argument('<files...>', 'PEM or DER certificate files')
    .action(act('cert', (m, files, opts) => m.certAddCommand(files, opts, io)));
  cert
    .command('list')
    .alias('ls')
    .description('list trust stores and their certificates')
    .option('-t, --type <type>', 'only stores of this type')
    .option('-s, --store <name>', 'only stores of this name')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(act('cert', (m, _args, opts) => m.certListCommand(opts, io)));
  cert
    .command('show')
    .description('show the certificates of a trust store file: subject, issuer, validity, fingerprint, key')
    .requiredOption('-t, --type <type>', 'ca, signingAuthority or tsa')
    .requiredOption('-s, --store <name>', 'trust store name')
    .argument('<file>', 'certificate file name in the store')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(act('cert', (m, [file], opts) => m.certShowCommand(file as string, opts, io)));
  cert
    .command('delete')
    .description('delete a certificate file (or with --all every file) from a trust store')
    .requiredOption('-t, --type <type>', 'ca, signingAuthority or tsa')
    .requiredOption('-s, --store <name>', 'trust store name')
    .argument('[file]', 'certificate file name in the store')
    .option('-a, --all', 'delete every certificate of the store (and the store)')
    .option('-y, --yes', 'confirm the deletion (there is no prompt)')
    .action(act('cert', (m, [file], opts) => m.certDeleteCommand(file, opts, io)));
  cert
    .command('generate-test')
    .description('generate a test signing key and self-signed certificate, trusted in ca store NAME')
    .argument('<name>', "key and trust store name (also the certificate's common name)")
    .option('--key-type <type>', 'rsa or ec', 'rsa')
    .option('-b, --bits <n>', 'RSA 2048/3072/4096 (default 3072) or EC 256/384/521 (default 256)')
    .option('--days <n>', 'validity in days', '365')
    .option('--default', 'make it the default signing key')
    .action(act('cert', (m, [name], opts) => m.certGenerateTestCommand(name as string, opts, io)));

  // --- signing keys ----------------------------------------------------------------------------
  const key = program
    .command('key')
    .description('signing key commands (signingkeys.json in the configuration directory)');
  key
    .command('list')
    .alias('ls')
    .description('list the signing keys; the default one is marked with *')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(act('key', (m, _args, opts) => m.keyListCommand(opts, io)));
  key
    .command('add')
    .description('add a signing key: a local key and certificate, or a key of a signing plugin')
    .argument('<name>', 'key name')
    .option('--key-file <file>', 'PEM private key (local key)')
    .option('--cert-file <file>', 'PEM certificate chain, leaf first (local key)')
    .option('--plugin <name>', 'signing plugin name (plugin key)')
    .option('--id <keyId>', 'key id in the plugin (plugin key)')
    .option('--plugin-config <key=value>', 'plugin configuration (repeatable)', collect)
    .option('--default', 'make it the default signing key')
    .action(act('key', (m, [name], opts) => m.keyAddCommand(name as string, opts, io)));
  key
    .command('delete')
    .alias('rm')
    .description('remove signing keys from signingkeys.json (the key files are kept)')
    .argument('<names...>', 'key names')
    .action(act('key', (m, names, opts) => m.keyDeleteCommand(names, opts, io)));
  key
    .command('set-default')
    .alias('update')
    .description('make a signing key the default')
    .argument('<name>', 'key name')
    .option('--default', "accepted for notation's spelling: key update --default NAME")
    .action(act('key', (m, [name], opts) => m.keySetDefaultCommand(name as string, opts, io)));
}
