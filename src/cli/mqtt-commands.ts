import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
}
