import type { Command } from 'commander';
import { collect } from './pairs.js';

/** The options both signing commands (`sign`, `blob sign`) take: key or plugin, format, expiry, timestamp, metadata. */
export function addSigningOptions(cmd: Command): Command {
  return cmd
    .option('-k, --key <name>', 'signing key from signingkeys.json (default: the default key)')
    .option('--signature-format <format>', 'jws or cose', 'jws')
    .option('-e, --expiry <duration>', 'signature expiry, e.g. 24h, 30m, 7d')
    .option('--timestamp-url <url>', 'RFC 3161 timestamp authority URL')
    .option('--timestamp-root-cert <file>', 'root certificate of the timestamp authority (PEM or DER)')
    .option('--plugin <name>', 'sign with the notation plugin notation-<name>')
    .option('--id <keyId>', 'key id for the plugin')
    .option('--plugin-config <key=value>', 'plugin configuration (repeatable)', collect)
    .option('-m, --user-metadata <key=value>', 'annotation added to the signed payload (repeatable)', collect);
}

/** The options both verifying commands (`verify`, `blob verify`) take: metadata, revocation, plugin configuration. */
export function addVerificationOptions(cmd: Command): Command {
  return cmd
    .option('-m, --user-metadata <key=value>', 'metadata the signature must carry (repeatable)', collect)
    .option(
      '--revocation <mode>',
      'online (OCSP, then CRL, over the network) or offline (no fetches: revokable certificates are "unknown")',
      'online',
    )
    .option(
      '--plugin-config <key=value>',
      'configuration passed to the verification plugin a signature names (repeatable)',
      collect,
    );
}
