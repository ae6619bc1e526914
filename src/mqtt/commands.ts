import type { Logger } from 'pino';
import type { IPublishPacket } from 'mqtt';
import type { HotListSummary } from '../hotlist/list.js';
import { HotListRejectedError } from '../hotlist/signed-list.js';
import { HotListChunk, ReadsAck, type ResponsePayload } from './messages.js';
import type { DeviceTopics } from './topics.js';
import type { Static } from '@sinclair/typebox';
import { AlprError, EX_DATAERR } from '../errors.js';
import { lazySchema } from '../schema-validation.js';

/**
 * What MQTT asks of the hot lists (the hot-list extension implements it; the composition root,
 * src/app.ts, hands it over): summaries for `state`, `telemetry` and `hotlist/status`, and installs
 * from `hotlist/update` and `hotlist/chunk`.
 */
export interface HotListService {
  summaries(): HotListSummary[];
  installSigned(bytes: Buffer, actor: string): HotListSummary;
}

/** A command refused; `reason` goes on the response topic, the message in the log. */
export class CommandError extends AlprError {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message, reason, EX_DATAERR);
  }
}

// Compiled at the first command of each kind, not at every daemon start (issue 23).
const validateChunk = lazySchema<Static<typeof HotListChunk>>(HotListChunk);
const validateAck = lazySchema<Static<typeof ReadsAck>>(ReadsAck);

interface Transfer {
  parts: number;
  received: Map<number, Buffer>;
  bytes: number;
  startedAtMs: number;
}

const MAX_TRANSFERS = 2;
const TRANSFER_TIMEOUT_MS = 10 * 60_000;

export interface CommandHandlerOptions {
  deviceId: string;
  topics: DeviceTopics;
  maxCommandBytes: number;
  hotlist: HotListService | undefined;
  logger: Logger;
  publishState(): void;
  onReadsAcknowledged: ((readIds: string[]) => void) | undefined;
  respond(topic: string, payload: ResponsePayload, correlationData?: Buffer): void;
}

export interface CommandRequest {
  command: string;
  correlationId: string | null;
  correlationData: Buffer | undefined;
  responseTopic: string;
}

/** Parses the request envelope: MQTT 5 properties first, then the JSON body's fields (3.1.1). */
export function requestEnvelope(topics: DeviceTopics, topic: string, payload: Buffer, props: IPublishPacket['properties']): CommandRequest {
  const command = topic.startsWith(topics.commandPrefix) ? topic.slice(topics.commandPrefix.length) : '';
  let correlationId: string | null = null;
  let responseTopic: string | undefined;
  if (props?.correlationData) correlationId = Buffer.from(props.correlationData).toString('utf8').slice(0, 128);
  if (props?.responseTopic) responseTopic = props.responseTopic;
  if (payload[0] === 0x7b /* { */ && payload.length <= 65536) {
    try {
      const body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
      if (correlationId === null && typeof body['correlationId'] === 'string') correlationId = body['correlationId'].slice(0, 128);
      if (responseTopic === undefined && typeof body['responseTopic'] === 'string') responseTopic = body['responseTopic'];
    } catch {
      // The command's own parser reports the bad body.
    }
  }
  // A response topic must be a plain topic (no wildcards) of sane length; otherwise our default.
  const safeCommand = /^[a-z/]{1,40}$/.test(command) ? command : 'invalid';
  if (responseTopic === undefined || responseTopic.length > 256 || /[#+\u0000]/.test(responseTopic) || responseTopic === '') responseTopic = topics.responsePrefix + safeCommand;
  return { command, correlationId, correlationData: props?.correlationData ? Buffer.from(props.correlationData) : undefined, responseTopic };
}

/**
 * Requests on alpr/v1/<id>/cmd/<command>. Every request gets one response; bad input of any kind is
 * refused with a reason and never throws out of `handle` (issue 8: never crash on input).
 */
export class CommandHandler {
  private readonly transfers = new Map<string, Transfer>();

  constructor(private readonly o: CommandHandlerOptions) {}

  handle(topic: string, payload: Buffer, props: IPublishPacket['properties']): void {
    const req = requestEnvelope(this.o.topics, topic, payload, props);
    let response: ResponsePayload;
    try {
      const result = this.run(req.command, payload);
      response = { schema: 'alpr-edge/response/1', deviceId: this.o.deviceId, command: req.command.slice(0, 64), correlationId: req.correlationId, ok: true, result };
    } catch (err) {
      const reason = err instanceof CommandError ? err.reason : err instanceof HotListRejectedError ? err.reason : 'internal';
      const message = (err as Error).message.slice(0, 500);
      this.o.logger.warn({ command: req.command.slice(0, 64), reason, err: message }, 'command refused');
      response = { schema: 'alpr-edge/response/1', deviceId: this.o.deviceId, command: req.command.slice(0, 64), correlationId: req.correlationId, ok: false, error: { reason, message } };
    }
    this.o.respond(req.responseTopic, response, req.correlationData);
  }

  /** Exposed for the fuzz test: throws CommandError/HotListRejectedError on bad input, nothing else. */
  run(command: string, payload: Buffer): Record<string, unknown> {
    if (payload.length > this.o.maxCommandBytes) throw new CommandError('too-large', `payload of ${payload.length} bytes exceeds mqtt.maxCommandBytes ${this.o.maxCommandBytes}`);
    switch (command) {
      case 'hotlist/update':
        return { list: this.hotlist().installSigned(payload, 'mqtt') };
      case 'hotlist/chunk':
        return this.chunk(payload);
      case 'hotlist/status':
        return { lists: this.hotlist().summaries() };
      case 'reads/ack': {
        const body = parseJson(payload);
        if (!validateAck(body)) throw new CommandError('invalid', `reads/ack ${validateAck.errors?.[0]?.instancePath || 'body'} ${validateAck.errors?.[0]?.message ?? 'is invalid'}`);
        this.o.onReadsAcknowledged?.(body.readIds);
        return { acknowledged: body.readIds.length };
      }
      case 'state/get':
        this.o.publishState();
        return {};
      default:
        throw new CommandError('unknown-command', `unknown command "${command.slice(0, 64)}" (see docs/mqtt-api.md)`);
    }
  }

  private hotlist(): HotListService {
    if (!this.o.hotlist) throw new CommandError('unavailable', 'hot lists are disabled on this device (hotlists.enabled)');
    return this.o.hotlist;
  }

  /** Large lists arrive in parts (each ≤ maxCommandBytes); the signature covers the whole file. */
  private chunk(payload: Buffer): Record<string, unknown> {
    const hotlist = this.hotlist();
    const body = parseJson(payload);
    if (!validateChunk(body)) throw new CommandError('invalid', `hotlist/chunk ${validateChunk.errors?.[0]?.instancePath || 'body'} ${validateChunk.errors?.[0]?.message ?? 'is invalid'}`);
    if (body.part >= body.parts) throw new CommandError('invalid', `part ${body.part} is not below parts ${body.parts}`);
    const now = Date.now();
    for (const [id, t] of this.transfers) if (now - t.startedAtMs > TRANSFER_TIMEOUT_MS) this.transfers.delete(id);
    let t = this.transfers.get(body.transferId);
    if (!t) {
      if (this.transfers.size >= MAX_TRANSFERS) throw new CommandError('busy', `${MAX_TRANSFERS} transfers already in progress`);
      t = { parts: body.parts, received: new Map(), bytes: 0, startedAtMs: now };
      this.transfers.set(body.transferId, t);
    }
    if (t.parts !== body.parts) throw new CommandError('invalid', `transfer ${body.transferId} has ${t.parts} parts, not ${body.parts}`);
    const data = Buffer.from(body.data, 'base64');
    if (!t.received.has(body.part)) {
      t.bytes += data.length;
      t.received.set(body.part, data);
    }
    if (t.bytes > this.o.maxCommandBytes * 4096) {
      this.transfers.delete(body.transferId);
      throw new CommandError('too-large', `transfer ${body.transferId} exceeds its size limit`);
    }
    if (t.received.size < t.parts) return { transferId: body.transferId, received: t.received.size, parts: t.parts };
    this.transfers.delete(body.transferId);
    const whole = Buffer.concat([...Array(t.parts).keys()].map((i) => t.received.get(i)!));
    return { transferId: body.transferId, received: t.parts, parts: t.parts, list: hotlist.installSigned(whole, 'mqtt') };
  }

  stop(): void {
    this.transfers.clear();
  }
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    throw new CommandError('invalid', 'payload is not JSON');
  }
}
