import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { hitPayload } from '../../src/mqtt/messages.js';
import { newReadId } from '../../src/pipeline/read-id.js';
import { HotListEntries } from '../../src/hotlist/entry-table.js';
import { summarise } from '../../src/hotlist/list.js';
import { entry, makeRead, tempDir, waitFor } from '../support/mqtt-harness.js';

// `alpr-edge watch` as an agency runs it: the compiled CLI against the Mosquitto on 127.0.0.1:1883.
describe('alpr-edge watch (CLI)', () => {
  it('prints one line per hit and saves the hit and its images under --out', async () => {
    const run = randomUUID().slice(0, 8);
    const deviceId = `watch-cli-${run}`;
    const out = tempDir('watch-cli-');
    const child = spawn('node', ['dist/src/bin.cjs', 'watch', '--broker', 'mqtt://127.0.0.1:1883', '--group', `cli-${run}`, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await waitFor(() => stderr.includes('watching hits'), 15_000, 'the watcher to subscribe');
      const read = makeRead('7CLI001', 'CA', deviceId);
      const e = entry('7CLI001', 'CA');
      const list = { name: 'ncic', source: 'test', version: 3, issuedAt: new Date().toISOString(), entries: HotListEntries.from([e]), signedBy: 'k' };
      const hit = hitPayload({ id: `${read.id}:ncic:0`, read, list: summarise(list, 24), entry: e, kind: 'exact', matchedText: read.plate, requiresVerification: true, matchedAt: new Date().toISOString() }, newReadId());
      const c = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { protocolVersion: 5 });
      await c.publishAsync(`alpr/v1/${deviceId}/hits`, JSON.stringify(hit), { qos: 1 });
      await c.endAsync();
      await waitFor(() => stdout.includes('7CLI001'), 10_000, 'the hit line');
      expect(stdout.split('\n').find((l) => l.includes('7CLI001'))).toMatch(new RegExp(`${deviceId} \\| cam1 \\| 7CLI001 \\(CA\\) .*SVS exact \\| ncic v3 .*VERIFY`));
      expect(existsSync(join(out, deviceId, `${hit.messageId}.json`))).toBe(true);
      expect(existsSync(join(out, deviceId, `${hit.messageId}-plate.jpg`))).toBe(true);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    expect(stderr).toContain('"hits":');
  });
});
