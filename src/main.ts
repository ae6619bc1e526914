import { Command, CommanderError, Option } from 'commander';
import { describeFailure, EX_USAGE } from './errors.js';
import { VERSION } from './version.js';
import { registerHotlistCommands } from './cli/hotlist-commands.js';
import { registerMqttCommands } from './cli/mqtt-commands.js';
import { registerStoreCommands } from './cli/store-commands.js';
import { registerDeviceCommands } from './cli/device-commands.js';

// Each command imports what it uses when it runs (`await import`), so `--version`, `status`, `user`,
// `audit` and `hotlist` never load onnxruntime, sharp or Fastify (test/e2e/cli-modules.test.ts).
const program = new Command();
// A usage error (unknown option, missing argument) throws instead of exiting 1, so it exits 64 below.
program.exitOverride();
program.name('alpr-edge').description('Licence-plate reader for fixed pole-mounted cameras').version(VERSION);
// Help texts and refusals cite policy rules by id (P8); the table ships in the package.
program.addHelpText('after', '\nRule ids P1–P17 cited in help and messages: docs/policy.md in the installed package (alpr-edge refusals name its path).');

program
  .command('run')
  .description('run the daemon: capture, read plates, serve health and metrics')
  .option('-c, --config <file>', 'configuration file', '/etc/alpr-edge/config.json')
  .option('--print-reads', 'print each read as a line on stdout (demo, field checks; --print-format)', false)
  .option('--print-hits', 'demo: print each hot-list hit the embedded broker carries as a line on stdout', false)
  .addOption(new Option('--print-format <format>', 'how --print-reads and --print-hits print: text (one readable line each) or json').choices(['text', 'json']).default('json'))
  .action(async (o: { config: string; printReads: boolean; printHits: boolean; printFormat: 'text' | 'json' }) => {
    // GStreamer's element listing (one gst-inspect-1.0 process, cached) is asked for now, so its
    // answer is taken in while the daemon's modules load; a camera then launches its pipeline at
    // once instead of waiting for the main thread to be free after HTTP listens (issue 23).
    void import('./capture/element-probe.js').then((probe) => probe.probeElements());
    const { runDaemon } = await import('./cli/run.js');
    await runDaemon({ config: o.config, printReads: o.printReads, printHits: o.printHits, printFormat: o.printFormat });
  });

program
  .command('read')
  .description('read plates in image or video files; one JSON line per image (or per read, for videos)')
  .argument('<files...>', 'images (jpg, png, ...) or videos (mp4, mkv, ...)')
  .option('-c, --config <file>', 'take models and thresholds from this configuration file')
  .addOption(new Option('--fps <n>', 'video files: frames per second analysed').default(15).argParser(Number))
  .action(async (files: string[], o: { config?: string; fps: number }) => {
    const { readFiles } = await import('./cli/read.js');
    process.exitCode = await readFiles(files, o);
  });

const config = program.command('config').description('configuration tools');
config
  .command('check')
  .description('validate a configuration file as `run` does (schema, broker TLS files, models, publisher keys, cameras); exit 78 listing every bad field, JSON mistakes by line and column')
  .argument('<file>')
  .action(async (file: string) => {
    const { checkConfigForRun } = await import('./cli/config-check.js');
    const { loadConfig } = await import('./config/load.js');
    // The same check `run` makes before it starts: valid here means the daemon accepts it.
    checkConfigForRun(loadConfig(file), file);
    process.stdout.write(`${file}: valid\n`);
  });
config
  .command('docs')
  .description('print docs/configuration.md, generated from the schema')
  .action(async () => {
    const { renderConfigDocs } = await import('./config/docs.js');
    process.stdout.write(renderConfigDocs());
  });

registerHotlistCommands(program);
registerMqttCommands(program);
registerStoreCommands(program);
registerDeviceCommands(program);

// The one place an error becomes an exit status: typed errors (src/errors.ts) print one line and
// exit with their sysexits code; anything else is a bug and prints its stack (70).
program.parseAsync(process.argv).catch(async (err: unknown) => {
  // Commander has already printed its message (or the help, or the version: exit code 0).
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : EX_USAGE);
  const { message, exitCode } = describeFailure(err);
  // A refusal citing a rule (P8) says where the rules are (docs/policy.md), loaded only on this path.
  const { withPolicyPointer } = await import('./policy-rules.js');
  process.stderr.write(`alpr-edge: ${withPolicyPointer(message)}\n`);
  process.exit(exitCode);
});
