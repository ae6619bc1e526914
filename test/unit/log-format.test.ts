import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { logFormat, TextLogStream } from '../../src/log.js';

// Logs on a terminal (the demo, a technician's shell) are readable lines; elsewhere JSON (issue 22).

function textLogger(level = 'info') {
  const lines: string[] = [];
  const logger = pino({ name: 'alpr-edge', level, base: { pid: 42 }, timestamp: pino.stdTimeFunctions.isoTime }, new TextLogStream((l) => lines.push(l)));
  return { logger, lines };
}

describe('log format', () => {
  it('is text on a terminal and JSON elsewhere (the journal, pipes), unless ALPR_EDGE_LOG_FORMAT says', () => {
    expect(logFormat({}, true)).toBe('text');
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({ ALPR_EDGE_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ ALPR_EDGE_LOG_FORMAT: 'text' }, false)).toBe('text');
    expect(logFormat({ ALPR_EDGE_LOG_FORMAT: 'fancy' }, false)).toBe('json');
  });

  it('prints one line per event: time, level, component, message, then the fields', () => {
    const { logger, lines } = textLogger();
    logger.child({ component: 'pipeline', camera: 'demo-cam' }).info({ readId: '01ABC', frames: 41, confidence: 0.982 }, 'read');
    logger.child({ component: 'mqtt' }).warn({ url: 'mqtt://127.0.0.1:1884', err: new Error('connect ECONNREFUSED 127.0.0.1:1884') }, 'MQTT connection failed; retrying with backoff');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  pipeline: read camera=demo-cam readId=01ABC frames=41 confidence=0.982\n$/);
    expect(lines[1]).toMatch(/^\S+ WARN  mqtt: MQTT connection failed; retrying with backoff url=mqtt:\/\/127\.0\.0\.1:1884 err="connect ECONNREFUSED 127\.0\.0\.1:1884"\n$/);
  });

  it('keeps plate text out at info level, as the JSON logs do (P16: plates only at debug)', () => {
    const { logger, lines } = textLogger('info');
    logger.child({ component: 'hotlist' }).debug({ readId: '01ABC', plate: '7LOG123' }, 'hot-list hit plate');
    logger.child({ component: 'hotlist' }).info({ readId: '01ABC', list: 'ncic' }, 'hot-list hit');
    expect(lines.join('')).not.toContain('7LOG123');
    expect(lines).toHaveLength(1);
  });
});
