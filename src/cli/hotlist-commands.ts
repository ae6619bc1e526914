import type { Command } from 'commander';
import type { AddFlags, KeygenFlags, SignFlags } from './hotlist-actions.js';
import { registerHotlistKeyCommands } from './hotlist-key-commands.js';

// Only the command line lives here: what each command does is in hotlist-actions.ts, loaded when a
// hot-list command runs, so `alpr-edge --version` or `status` does not load LMDB, Argon2 or Ajv.
const actions = () => import('./hotlist-actions.js');

/** Technician / publisher: hot-list commands (docs/hotlists.md). The daemon picks changes up within hotlists.checkIntervalS. */
export function registerHotlistCommands(program: Command): void {
  const hl = program.command('hotlist').description('hot lists: sign (publisher), import, local entries, publisher keys, status');

  hl.command('keygen')
    .description('publisher: make an Ed25519 key pair for signing lists')
    .requiredOption('--private <file>', 'private key (PEM, keep it on the publishing host)')
    .requiredOption('--public <file>', 'public key (PEM, goes into hotlists.publisherKeys on devices)')
    .action(async (o: KeygenFlags) => (await actions()).keygen(o));

  hl.command('sign')
    .description('publisher: turn a CSV list or an NCIC/CA DOJ pipe extract into a signed, versioned list file')
    .argument('<input>', 'list file')
    .option('--format <csv|ncic>', 'input format', 'csv')
    .requiredOption('--name <name>', 'list name (a newer version of the same name replaces the old)')
    .requiredOption('--source <source>', 'who publishes it, e.g. "CA DOJ SVS"')
    .option('--issued-at <iso>', 'issue time (default: now)')
    .option('--list-version <n>', 'version, strictly increasing per name (default: issue time in seconds)')
    .requiredOption('--key <file>', 'publisher private key (PEM)')
    .requiredOption('--key-id <id>', 'key id devices know the public key by')
    .requiredOption('-o, --out <file>', 'signed list file to write')
    .action(async (input: string, o: SignFlags) => (await actions()).sign(input, o));

  hl.command('import')
    .description('install a signed list file (over SSH; P11: an administrator, their password read from stdin); refused unless signed by a configured key and newer than the installed version')
    .argument('<file>', 'signed list file')
    .option('-c, --config <file>', 'configuration file', '/etc/alpr-edge/config.json')
    .requiredOption('--as <admin>', 'administrator importing it (a user of `alpr-edge user`)')
    .action(async (file: string, o: { config: string; as: string }) => (await actions()).importList(file, o));

  hl.command('retire')
    .description('stop matching a signed list (P11: an administrator, their password read from stdin); logged and published on MQTT audit; only a newer version can be imported again')
    .argument('<name>', 'list name, as `hotlist status` shows it')
    .option('-c, --config <file>', 'configuration file', '/etc/alpr-edge/config.json')
    .requiredOption('--as <admin>', 'administrator retiring it (a user of `alpr-edge user`)')
    .action(async (name: string, o: { config: string; as: string }) => (await actions()).retireList(name, o));

  hl.command('add')
    .description('add a local entry (P11: member, case number, synopsis and an administrator approver are required)')
    .option('-c, --config <file>', 'configuration file', '/etc/alpr-edge/config.json')
    .option('--plate <plate>', 'plate; ? stands for one unknown character, * for any run (partial, P12)')
    .option('--state <st>', 'two-letter state (omit when unknown)')
    .option('--type <type>', 'SVS, SLR, SFR, BOLO or CUSTOM', 'BOLO')
    .option('--entered-by <user>', 'member entering the entry: a user of `alpr-edge user` (investigator or administrator); their password is read from stdin first')
    .option('--case <number>', 'case or incident number')
    .option('--synopsis <text>', 'short synopsis')
    .option('--approver <user>', 'administrator approving the entry (a user of `alpr-edge user`); their password is read from stdin next, not again if they entered it')
    .option('--expires <date>', 'expiry (default and maximum: hotlists.localEntryMaxDays from now)')
    .option('--vehicle <text>', 'vehicle description')
    .option('--fuzzy', 'also match reads one character off', false)
    .action(async (o: AddFlags) => (await actions()).addLocalEntry(o));

  hl.command('remove')
    .description('remove local entries for a plate (P11: an administrator, like approving one; their password is read from stdin)')
    .option('-c, --config <file>', 'configuration file', '/etc/alpr-edge/config.json')
    .requiredOption('--plate <plate>', 'plate as entered')
    .option('--case <number>', 'only the entry with this case number')
    .requiredOption('--as <admin>', 'administrator removing it (a user of `alpr-edge user`)')
    .action(async (o: { config: string; plate: string; case?: string; as: string }) => (await actions()).removeLocalEntries(o));

  hl.command('status')
    .description('installed lists with versions, ages and entry counts (no plates)')
    .option('-c, --config <file>', 'configuration file', '/etc/alpr-edge/config.json')
    .action(async (o: { config: string }) => (await actions()).printListStatus(o));
  registerHotlistKeyCommands(hl);
}
