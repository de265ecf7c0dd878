import type { Command } from 'commander';
import type { CliIo } from './io.js';
import { collect } from './pairs.js';
import { addSigningOptions, addVerificationOptions } from './signing-flags.js';
import type { Act } from './program.js';

/** `portcullis blob …`: detached signatures of files, as notation blob does (trustpolicy.blob.json). */
export function addBlobCommands(program: Command, act: Act, io: CliIo): void {
  // --- blobs (detached signatures of files) -----------------------------------------------------
  const blob = program
    .command('blob')
    .description(
      'sign and verify files with detached Notary signatures, as notation blob does (trustpolicy.blob.json)',
    );
  addSigningOptions(
    blob
      .command('sign')
      .description('sign a file: the signature is written beside it as <file>.<jws|cose>.sig')
      .argument('<file>', 'the file (blob) to sign')
      .option('--signature-directory <dir>', "where to write the signature (default: the file's directory)")
      .option('--media-type <type>', 'media type of the blob in the signed descriptor', 'application/octet-stream'),
  )
    .option('--force', 'replace an existing signature file')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(act('blob', (m, [file], opts) => m.blobSignCommand(file as string, opts, io)));
  addVerificationOptions(
    blob
      .command('verify')
      .description('verify a detached signature of a file against the blob trust policy')
      .argument('<file>', 'the file (blob) the signature is for')
      .requiredOption('--signature <file>', 'the signature file (<name>.jws.sig or <name>.cose.sig)')
      .option('--media-type <type>', 'media type the signature must give the blob (default: not checked)')
      .option('--policy-name <name>', 'blob trust policy statement to verify against (default: the global one)'),
  )
    .option('-o, --output <format>', 'text or json', 'text')
    .action(act('blob', (m, [file], opts) => m.blobVerifyCommand(file as string, opts, io)));
  blob
    .command('inspect')
    .description('show a detached signature: attributes, certificates, signed blob (no trust decision)')
    .argument('<signature>', 'the signature file (<name>.jws.sig or <name>.cose.sig)')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(act('blob', (m, [signature], opts) => m.blobInspectCommand(signature as string, opts, io)));
  const blobPolicy = blob
    .command('policy')
    .description('blob trust policy commands (trustpolicy.blob.json in the configuration directory)');
  blobPolicy
    .command('init')
    .description('write a blob trust policy with one strict statement')
    .requiredOption('-n, --name <name>', 'statement name')
    .option('--trust-store <type:name>', 'trust store, e.g. ca:wabbit-networks.io (repeatable)', collect)
    .option(
      '--trusted-identity <identity>',
      'trusted identity, e.g. "x509.subject: CN=wabbit-networks.io, O=Notary" or * (repeatable)',
      collect,
    )
    .option('--global', 'make it the global statement (used when blob verify names no --policy-name)')
    .option('--force', 'replace an existing blob trust policy')
    .action(act('blob', (m, _args, opts) => m.blobPolicyInitCommand(opts, io)));
  blobPolicy
    .command('import')
    .description('validate a blob trust policy document and make it the one in force')
    .argument('<file>', 'blob trust policy JSON file')
    .option('--force', 'replace an existing blob trust policy')
    .action(act('blob', (m, [file], opts) => m.blobPolicyImportCommand(file as string, opts, io)));
  blobPolicy
    .command('show')
    .description('print the blob trust policy in force, as stored (blob policy show > file exports it)')
    .option('-o, --output <format>', 'text (the document as stored) or json', 'text')
    .action(act('blob', (m, _args, opts) => m.blobPolicyShowCommand(opts, io)));
}
