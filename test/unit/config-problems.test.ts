import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, validateConfig } from '../../src/config/load.js';
import { findJsonSyntaxError } from '../../src/config/json-syntax.js';

// Issue 22: `config check` named only the first problem, and a JSON mistake came as a character
// offset (or no place at all). Every schema problem is listed; a syntax error gives line and column.

const minimal = { deviceId: 'pole-1', location: { latitude: 1, longitude: 2, headingDeg: 3 }, cameras: [{ id: 'c1', uri: 'test://' }], stateDir: '/var/lib/alpr-edge' };

function thrown(f: () => unknown): ConfigError {
  try {
    f();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('nothing thrown');
}

describe('config problems, all of them, and JSON errors by line and column', () => {
  it('lists every bad field, one per line, named by the first (exit 78)', () => {
    const err = thrown(() => validateConfig({ ...minimal, http: { port: 70000 }, store: { retentionDays: -1 }, colour: 'blue' }, 'pole.json'));
    expect(err.exitCode).toBe(78);
    const lines = err.message.split('\n');
    expect(lines[0]).toBe('pole.json: 3 problems:');
    expect(lines.slice(1).sort()).toEqual([
      '  colour is not a known setting (check its spelling in docs/configuration.md)',
      '  http.port must be <= 65535',
      '  store.retentionDays must be >= 0.001',
    ]);
    expect(['http.port', 'store.retentionDays', 'colour']).toContain(err.field);
  });

  it('a single problem reads as one line, as before', () => {
    const err = thrown(() => validateConfig({ ...minimal, http: { port: 70000 } }, 'pole.json'));
    expect(err.message).toBe('pole.json: http.port must be <= 65535');
    expect(err.field).toBe('http.port');
  });

  it('a JSON syntax error gives the line and column of the file as written, comments included, and never quotes the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-json-'));
    const file = join(dir, 'bad.jsonc');
    // A block comment over three lines and a line comment before the mistake: positions must not shift.
    writeFileSync(file, '{\n  /* camera\n     settings\n  */ "deviceId": "pole-1", // id\n  "cameras": [{ "id": "c1", "uri": "rtsp://u:hunter2secret@cam/" }],\n  "stateDir": }\n');
    const err = thrown(() => loadConfig(file));
    expect(err.exitCode).toBe(78);
    expect(err.message).toBe(`${file}: not valid JSON at line 6, column 15: expected a value (a string in double quotes, a number, true, false, null, an object or an array), found '}'`);
    expect(err.message).not.toContain('hunter2secret');
  });

  it('finds the place and says what was expected for the usual mistakes', () => {
    expect(findJsonSyntaxError('{"a": 1,\n}')).toMatchObject({ line: 2, column: 1, message: "expected a property name in double quotes, found '}' (a comma before '}' is not allowed in JSON)" });
    expect(findJsonSyntaxError('{"a": 1\n "b": 2}')).toMatchObject({ line: 2, column: 2, message: "expected ',' or '}' after the property's value, found '\"'" });
    expect(findJsonSyntaxError('{"a" 1}')).toMatchObject({ line: 1, column: 6, message: "expected ':' after the property name, found '1'" });
    expect(findJsonSyntaxError('[1, 2,]')).toMatchObject({ line: 1, column: 7 });
    expect(findJsonSyntaxError('{"a": "x\n"}')).toMatchObject({ line: 1, column: 9 });
    expect(findJsonSyntaxError('{"a": "x')).toMatchObject({ line: 1, column: 7, message: 'a string is not closed (a closing " missing)' });
    expect(findJsonSyntaxError("{'a': 1}")).toMatchObject({ line: 1, column: 2 });
    expect(findJsonSyntaxError('{"a": 1} x')).toMatchObject({ line: 1, column: 10 });
    expect(findJsonSyntaxError('{"a": 1')).toMatchObject({ message: "expected ',' or '}' after the property's value, found the end of the file" });
    for (const ok of ['{}', '[]', '{"a": [1, -2.5e3, true, false, null, "\\u00e9\\n"], "b": {"c": ""}}', ' 0 ']) {
      expect(() => JSON.parse(ok)).not.toThrow();
      expect(findJsonSyntaxError(ok), ok).toBeUndefined();
    }
  });
});
