import pino, { type Logger } from 'pino';

/**
 * Structured logs on stderr (stdout carries reads for people and pipes). Plate text is logged only
 * at debug/trace (P16), so info-level logs from a deployed device never hold plate numbers.
 */
export function createLogger(level: string, name = 'alpr-edge'): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
}
