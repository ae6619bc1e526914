import type { Command } from 'commander';

// The command line only; hotlist-key-actions.ts does the work, loaded when a command runs.
const actions = () => import('./hotlist-key-actions.js');

const DEFAULT_CONFIG = '/etc/alpr-edge/config.json';

/** `hotlist keys add|list|remove`: the publisher keys in `hotlists.publisherKeys` (P10). */
export function registerHotlistKeyCommands(hl: Command): void {
  const keys = hl.command('keys').description('publisher keys the device trusts to sign hot lists (hotlists.publisherKeys); the daemon takes changes on systemctl reload');

  keys
    .command('add')
    .description('trust a publisher key: copied beside the config as publisher-keys/<id>.pem and added to hotlists.publisherKeys (the file is rewritten as plain JSON)')
    .requiredOption('--id <id>', 'key id the publisher signs with (hotlist sign --key-id)')
    .requiredOption('--file <pem>', 'the Ed25519 public key (PEM), from hotlist keygen --public')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .action(async (o: { id: string; file: string; config: string }) => (await actions()).addKey(o));

  keys
    .command('list')
    .description('the configured publisher keys with their SHA-256 fingerprints, and which the running daemon uses')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .option('--json', 'print JSON', false)
    .action(async (o: { config: string; json: boolean }) => (await actions()).listKeys(o));

  keys
    .command('remove')
    .description('stop trusting a publisher key; lists it signed stop loading at the next reload or start')
    .requiredOption('--id <id>', 'key id')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG)
    .action(async (o: { id: string; config: string }) => (await actions()).removeKey(o));
}
