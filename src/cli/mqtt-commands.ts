import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';

/** MQTT API tools: regenerate docs/schemas/ from src/mqtt/messages.ts (a unit test checks they match). */
export function registerMqttCommands(program: Command): void {
  const m = program.command('mqtt').description('MQTT API tools');
  m.command('schemas')
    .description('write the JSON Schemas of every published message (docs/schemas/)')
    .option('--out <dir>', 'directory', 'docs/schemas')
    .action(async (o: { out: string }) => {
      const { MESSAGE_SCHEMAS, renderSchemaFile } = await import('../mqtt/messages.js');
      mkdirSync(o.out, { recursive: true });
      for (const [file, schema] of Object.entries(MESSAGE_SCHEMAS)) writeFileSync(join(o.out, file), renderSchemaFile(schema));
      process.stdout.write(`wrote ${Object.keys(MESSAGE_SCHEMAS).length} schemas to ${o.out}\n`);
    });

  program
    .command('watch')
    .description('central side: follow a fleet\'s hits (MQTT 5 shared subscription), print one line per hit, save hits and images')
    .requiredOption('--broker <url>', 'broker URL, mqtts://host:8883 (mqtt:// only to loopback unless --allow-plain-text)')
    .option('--group <name>', 'shared-subscription group; consumers in one group split the hits', 'alpr-edge-watch')
    .option('--out <dir>', 'save <dir>/<deviceId>/<messageId>.json, -plate.jpg and -overview.jpg, and the signed access-log heads in <dir>/<deviceId>/anchors.jsonl')
    .option('--ca <file>', 'CA certificate of the broker (mqtts; the only CA trusted)')
    .option('--cert <file>', 'client certificate (mqtts)')
    .option('--key <file>', 'client key (mqtts)')
    .option('--username <name>', 'broker username')
    .option('--password <password>', 'broker password (prefer --password-file: arguments show in ps)')
    .option('--password-file <file>', 'file holding the broker password')
    .option('--allow-plain-text', 'allow plain mqtt:// to a host other than loopback', false)
    .option('--json', 'print each hit as one JSON line (images left out) instead of a text line', false)
    .action(async (o: { broker: string; group: string; out?: string; ca?: string; cert?: string; key?: string; username?: string; password?: string; passwordFile?: string; allowPlainText: boolean; json: boolean }) => {
      const { HitWatcher, formatHitLine } = await import('../mqtt/watch.js');
      const { createLogger } = await import('../log.js');
      const logger = createLogger(process.env['ALPR_EDGE_LOG_LEVEL'] ?? 'info', 'watch').child({ component: 'watch' });
      const password = o.passwordFile ? readFileSync(o.passwordFile, 'utf8').trim() : o.password;
      const watcher = new HitWatcher({
        brokerUrl: o.broker,
        group: o.group,
        logger,
        allowPlainText: o.allowPlainText,
        ...(o.out ? { outDir: o.out } : {}),
        ...(o.ca ? { caFile: o.ca } : {}),
        ...(o.cert ? { certFile: o.cert } : {}),
        ...(o.key ? { keyFile: o.key } : {}),
        ...(o.username ? { username: o.username } : {}),
        ...(password ? { password } : {}),
        // The agency's own console: the plate is shown so an officer can verify the hit (P13).
        onHit: (hit) => process.stdout.write((o.json ? JSON.stringify({ ...hit, images: undefined }) : formatHitLine(hit)) + '\n'),
      });
      // A bad option exits 64 (WatchOptionError), a broker that cannot be used 69 (src/main.ts).
      await watcher.start();
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await watcher.stop();
      logger.info(watcher.stats, 'stopped');
    });
}
