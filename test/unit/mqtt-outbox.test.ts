import { describe, expect, it, onTestFinished } from 'vitest';
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { Outbox } from '../../src/mqtt/outbox.js';
import { openDeviceKeys } from '../../src/state/device-keys.js';
import { MESSAGE_SCHEMAS, renderSchemaFile, type ResponsePayload } from '../../src/mqtt/messages.js';
import { CommandHandler } from '../../src/mqtt/commands.js';
import { deviceTopics } from '../../src/mqtt/topics.js';
import { reconnectDelayMs } from '../../src/mqtt/connection.js';
import { HotListExtension } from '../../src/hotlist/extension.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { DeviceEventBus } from '../../src/device-events.js';
import { entry, makePublisher, memoryChangeLog, openTestStateDatabase, tempDir, testConfig } from '../support/mqtt-harness.js';

/** The device keys the daemon seals outbox messages with (P16). */
const keysIn = (stateDir: string) => openDeviceKeys(stateDir);

/** A state environment in a temp dir, closed when the test ends (the outbox never closes it). */
function stateDb(stateDir = tempDir('outbox-')) {
  const db = openTestStateDatabase(stateDir);
  onTestFinished(() => db.root.close());
  return db;
}

describe('durable MQTT outbox (LMDB, in the state environment)', () => {
  it('keeps messages in order across a reopen (restart) until each is acknowledged', async () => {
    const dir = tempDir('outbox-');
    const keys = keysIn(tempDir('outbox-keys-'));
    const first = openTestStateDatabase(dir);
    const a = new Outbox(first, { maxMessages: 100, maxBytes: 1 << 20 }, keys);
    for (let i = 0; i < 5; i++) await a.enqueue('hit', 't/hits', `id${i}`, Buffer.from(`hit ${i}`));
    await a.ack(a.peek(0, 1)[0]!.seq);
    await a.close();
    await first.root.close();
    const b = new Outbox(stateDb(dir), { maxMessages: 100, maxBytes: 1 << 20 }, keys);
    onTestFinished(() => b.close());
    expect(b.peek(0, 10).map((m) => m.payload.toString())).toEqual(['hit 1', 'hit 2', 'hit 3', 'hit 4']);
    const { seq } = await b.enqueue('read', 't/reads', 'id5', Buffer.from('read 5'));
    expect(seq).toBeGreaterThan(b.peek(0, 10)[3]!.seq);
  });

  it('when full drops reads oldest-first, never a hit before a read, and a read that does not fit is itself dropped', async () => {
    const o = new Outbox(stateDb(), { maxMessages: 4, maxBytes: 1 << 20 }, keysIn(tempDir('outbox-keys-')));
    onTestFinished(() => o.close());
    await o.enqueue('read', 'r', 'r1', Buffer.from('r1'));
    await o.enqueue('hit', 'h', 'h1', Buffer.from('h1'));
    await o.enqueue('read', 'r', 'r2', Buffer.from('r2'));
    await o.enqueue('hit', 'h', 'h2', Buffer.from('h2'));
    expect((await o.enqueue('hit', 'h', 'h3', Buffer.from('h3'))).dropped).toEqual(['read']);
    expect((await o.enqueue('hit', 'h', 'h4', Buffer.from('h4'))).dropped).toEqual(['read']);
    expect((await o.enqueue('read', 'r', 'r3', Buffer.from('r3'))).dropped).toEqual(['read']);
    expect(o.peek(0, 10).map((m) => m.messageId)).toEqual(['h1', 'h2', 'h3', 'h4']);
    expect(o.dropped).toMatchObject({ read: 3, hit: 0 });
    // Only hits left: the oldest hit gives way to a newer hit (bounded disk), counted.
    await o.enqueue('hit', 'h', 'h5', Buffer.from('h5'));
    expect(o.peek(0, 10).map((m) => m.messageId)).toEqual(['h2', 'h3', 'h4', 'h5']);
    expect(o.dropped.hit).toBe(1);
  });

  it('bounds bytes as well as messages', async () => {
    const o = new Outbox(stateDb(), { maxMessages: 1000, maxBytes: 100 }, keysIn(tempDir('outbox-keys-')));
    onTestFinished(() => o.close());
    for (let i = 0; i < 5; i++) await o.enqueue('read', 'r', `r${i}`, Buffer.alloc(30));
    expect(o.bytes).toBeLessThanOrEqual(100);
    expect(o.size).toBe(3);
  });

  it('a record that does not decode (damaged index entry at open, damaged message at send) is dropped and counted as unreadable, never a crash', async () => {
    const dir = tempDir('outbox-');
    const keys = keysIn(tempDir('outbox-keys-'));
    const first = openTestStateDatabase(dir);
    const a = new Outbox(first, { maxMessages: 100, maxBytes: 1 << 20 }, keys);
    for (let i = 0; i < 4; i++) await a.enqueue('hit', 't/hits', `h${i}`, Buffer.from(`hit ${i}`));
    const [s0, s1, s2] = a.peek(0, 3).map((m) => m.seq);
    await a.close();
    // What a damaged file or a hand edit leaves: an index entry of no known kind, a message without its topic.
    await first.root.transaction(() => {
      void first.outboxIndex.put(s0!, { kind: 'junk', bytes: -1 } as never);
      void first.outboxMessages.put(s2!, { kind: 'hit', messageId: 'h2', sealed: 'not bytes' } as never);
    });
    await first.root.close();
    const db = stateDb(dir);
    const b = new Outbox(db, { maxMessages: 100, maxBytes: 1 << 20 }, keys);
    onTestFinished(() => b.close());
    expect(b.unreadable).toBe(1);
    expect(b.size).toBe(3);
    expect(b.peek(0, 10).map((m) => m.messageId)).toEqual(['h1', 'h3']);
    expect(b.unreadable).toBe(2);
    expect(b.dropped.hit).toBe(1);
    expect(b.size).toBe(2);
    expect(b.countOf('hit')).toBe(2);
    // Both damaged entries are gone from the file once their removals commit.
    await b.ack(s1!);
    // Transactions commit in order: an empty one after them has committed once they all have.
    await db.root.transaction(() => undefined);
    expect([...db.outboxIndex.getKeys()]).toEqual([s2! + 1]);
    expect([...db.outboxMessages.getKeys()]).toEqual([s2! + 1]);
  });
});

describe('MQTT API contract', () => {
  it('docs/schemas/ is what `alpr-edge mqtt schemas` generates from src/mqtt/messages.ts', () => {
    expect(readdirSync('docs/schemas').sort()).toEqual(Object.keys(MESSAGE_SCHEMAS).sort());
    for (const [file, schema] of Object.entries(MESSAGE_SCHEMAS)) expect(readFileSync(join('docs/schemas', file), 'utf8')).toBe(renderSchemaFile(schema));
  });

  it('topics live under alpr/v1/<deviceId>/ and refuse ids that are not one topic level', () => {
    expect(deviceTopics('pole-7')).toMatchObject({ state: 'alpr/v1/pole-7/state', hits: 'alpr/v1/pole-7/hits', commands: 'alpr/v1/pole-7/cmd/#' });
    expect(() => deviceTopics('a/b')).toThrow();
    expect(() => deviceTopics('#')).toThrow();
  });

  it('reconnect backoff grows from 500 ms to the cap with ±20 % jitter', () => {
    expect(reconnectDelayMs(0, 30_000, () => 0.5)).toBe(500);
    expect(reconnectDelayMs(3, 30_000, () => 0.5)).toBe(4000);
    expect(reconnectDelayMs(30, 30_000, () => 1)).toBe(36_000);
    expect(reconnectDelayMs(30, 30_000, () => 0)).toBe(24_000);
  });

  it('fuzz: 10k random and mutated command payloads on random command topics each get exactly one response, refused with a reason, never a throw', async () => {
    const topics = deviceTopics('fuzz-pole');
    const responses: ResponsePayload[] = [];
    // A real hot-list extension behind the handler, so list and chunk payloads reach their parsers.
    const dir = tempDir('fuzz-cmd-');
    const pub = makePublisher(dir);
    const hotlist = new HotListExtension({ changeLog: memoryChangeLog() });
    onTestFinished(() => hotlist.stop());
    await hotlist.start({ config: testConfig('fuzz-pole', dir, pub.pubFile, {}), logger: pino({ level: 'silent' }), metrics: createMetrics(), events: new DeviceEventBus() });
    const goodList = pub.sign('fuzz', 1, [entry('7FUZZ01', 'CA')]);
    const handler = new CommandHandler({
      deviceId: 'fuzz-pole',
      topics,
      maxCommandBytes: 4096,
      hotlist,
      logger: pino({ level: 'silent' }),
      publishState: () => {},
      onReadsAcknowledged: () => {},
      respond: (_t, p) => responses.push(p),
    });
    const goodChunk = JSON.stringify({ correlationId: 'c1', transferId: 't1', part: 0, parts: 2, data: 'AAAA' });
    const goodAck = JSON.stringify({ correlationId: 'c2', readIds: ['01ABC'] });
    const flipped = fc.tuple(fc.nat(goodList.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const b = Buffer.from(goodList);
      b[i] = b[i]! ^ x;
      return b;
    });
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      flipped,
      fc.json().map((j) => Buffer.from(j)),
      fc.tuple(fc.constantFrom(goodChunk, goodAck), fc.nat(80), fc.string({ maxLength: 6 })).map(([g, at, ins]) => Buffer.from(g.slice(0, at) + ins + g.slice(at + 1))),
      fc.constant(Buffer.alloc(5000, 0x7b)),
    );
    const command = fc.oneof(fc.constantFrom('hotlist/update', 'hotlist/chunk', 'hotlist/status', 'reads/ack', 'state/get'), fc.string({ maxLength: 20 }));
    let n = 0;
    fc.assert(
      fc.property(command, payload, (cmd, p) => {
        handler.handle(topics.commandPrefix + cmd, p, undefined);
        n++;
        expect(responses).toHaveLength(n);
        const r = responses[n - 1]!;
        if (!r.ok) expect(r.error?.reason).toMatch(/^[a-z-]+$/);
      }),
      { numRuns: 10_000 },
    );
    expect(n).toBeGreaterThanOrEqual(10_000);
    // Nothing but the genuine signed content was ever installed: a flip in the gzip header's time or
    // OS bytes leaves the signed body intact, so that list may legitimately go in; nothing else can.
    const installed = responses.filter((r) => r.ok && r.result && 'list' in r.result).map((r) => r.result!['list'] as { name: string; version: number; entries: number });
    expect(installed.every((l) => l.name === 'fuzz' && l.version === 1 && l.entries === 1)).toBe(true);
    expect(hotlist.summaries().filter((l) => l.name !== 'local' && !(l.name === 'fuzz' && l.version === 1))).toEqual([]);
    expect(responses.some((r) => r.command === 'hotlist/status' && r.ok)).toBe(true);
    expect(responses.some((r) => r.command === 'state/get' && r.ok)).toBe(true);
    // The handler is in working order after 10k bad inputs: the next version installs.
    handler.handle(topics.commandPrefix + 'hotlist/update', pub.sign('fuzz', 2, [entry('7FUZZ02', 'CA')]), undefined);
    expect(responses.at(-1)).toMatchObject({ ok: true, result: { list: { name: 'fuzz', version: 2 } } });
  });
});
