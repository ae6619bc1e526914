import { writeSync } from 'node:fs';
import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Structured logs on stderr (stdout carries reads for people and pipes). Plate text is logged only
 * at debug/trace (P16), so info-level logs from a deployed device never hold plate numbers.
 * On a terminal (the demo, a technician's shell) each event is one readable line; anywhere else
 * (systemd's journal, pipes, tests) it is one JSON object per line. `ALPR_EDGE_LOG_FORMAT=json|text`
 * overrides the choice.
 */
export function createLogger(level: string, name = 'alpr-edge', env: NodeJS.ProcessEnv = process.env): Logger {
  const options = { name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  return pino(options, logFormat(env, process.stderr.isTTY === true) === 'text' ? new TextLogStream((line) => writeSync(2, line)) : pino.destination({ fd: 2, sync: true }));
}

export function logFormat(env: NodeJS.ProcessEnv, terminal: boolean): 'text' | 'json' {
  const asked = env['ALPR_EDGE_LOG_FORMAT'];
  if (asked === 'text' || asked === 'json') return asked;
  return terminal ? 'text' : 'json';
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'component']);

function fieldValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v !== null && typeof v === 'object' && 'message' in v && typeof (v as { message: unknown }).message === 'string') return JSON.stringify((v as { message: string }).message);
  return JSON.stringify(v) ?? String(v);
}

/** One pino JSON event as `HH:MM:SS.mmm LEVEL component: message key=value ...`. */
export function formatLogLine(json: string): string {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof e['time'] === 'string' ? e['time'].slice(11, 23) : '';
  const level = LEVELS[Number(e['level'])] ?? String(e['level']);
  const where = typeof e['component'] === 'string' ? `${e['component']}: ` : '';
  const fields = Object.entries(e).filter(([k]) => !HIDDEN.has(k)).map(([k, v]) => `${k}=${fieldValue(v)}`);
  return `${time} ${level} ${where}${String(e['msg'] ?? '')}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}\n`;
}

/** A pino destination writing readable lines; synchronous, like the JSON destination, so nothing is lost on exit. */
export class TextLogStream implements DestinationStream {
  constructor(private readonly out: (line: string) => void) {}

  write(chunk: string): void {
    for (const line of chunk.split('\n')) if (line.length > 0) this.out(formatLogLine(line));
  }
}
