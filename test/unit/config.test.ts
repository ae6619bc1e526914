import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, stripJsonComments, validateConfig } from '../../src/config/load.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { renderConfigDocs } from '../../src/config/docs.js';

const minimal = {
  deviceId: 'pole-1',
  location: { latitude: 37.7, longitude: -122.4, headingDeg: 90 },
  cameras: [{ id: 'cam1', uri: 'rtsp://127.0.0.1:8554/test' }],
};

function errorOf(raw: unknown): ConfigError {
  try {
    validateConfig(raw, 'cfg.json');
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('config was accepted');
}

describe('configuration schema', () => {
  it('fills every default so a minimal config runs', () => {
    const c = validateConfig(minimal);
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8080, console: { enabled: true, idleMinutes: 15, maxSessionHours: 12, liveMaxFps: 4 } });
    expect(c.thresholds.minFrames).toBe(2);
    expect(c.cameras[0]!.fpsCap).toBe(15);
    expect(c.models.detector).toBe('detector-int8');
    expect(c.log.level).toBe('info');
  });

  it('names the exact field and what was expected when a value is wrong', () => {
    const err = errorOf({ ...minimal, cameras: [{ id: 'cam1', uri: 'rtsp://x', fpsCap: 0 }] });
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.field).toBe('cameras.0.fpsCap');
    expect(err.message).toContain('cameras.0.fpsCap must be >= 0.5');
  });

  it('names a missing required field', () => {
    const err = errorOf({ ...minimal, location: { latitude: 1, longitude: 2 } });
    expect(err.field).toBe('location.headingDeg');
    expect(err.message).toContain('is required');
  });

  it('refuses unknown keys so a typo is not silently ignored', () => {
    const err = errorOf({ ...minimal, thresholds: { minFrame: 3 } });
    expect(err.field).toBe('thresholds.minFrame');
    expect(err.message).toContain('not a known setting');
  });

  it('refuses two cameras with one id', () => {
    const err = errorOf({ ...minimal, cameras: [minimal.cameras[0], minimal.cameras[0]] });
    expect(err.field).toBe('cameras.1.id');
  });

  it('refuses camera URIs of unknown schemes', () => {
    expect(errorOf({ ...minimal, cameras: [{ id: 'c', uri: 'http://cam/x.mjpg' }] }).field).toBe('cameras.0.uri');
  });

  it('loads a commented file and reports unreadable or malformed files by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const good = join(dir, 'good.jsonc');
    writeFileSync(good, `// comment\n{ /* block */ "deviceId": "a", "location": {"latitude": 0, "longitude": 0, "headingDeg": 0, "description": "x // not a comment"}, "cameras": [{"id": "c", "uri": "test://"}] }`);
    expect(loadConfig(good).location.description).toBe('x // not a comment');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "deviceId": ');
    expect(() => loadConfig(bad)).toThrow(/bad.json: not valid JSON/);
    expect(() => loadConfig(join(dir, 'missing.json'))).toThrow(/cannot read config file \(ENOENT\)/);
  });

  it('keeps strings intact when stripping comments', () => {
    expect(JSON.parse(stripJsonComments('{"u": "rtsp://h/a"} // x'))).toEqual({ u: 'rtsp://h/a' });
  });

  it('ships an example and a demo config that validate', () => {
    expect(loadConfig('config/example.jsonc').cameras[0]!.roi?.width).toBe(1920);
    expect(loadConfig('config/demo.json').cameras[0]!.uri).toMatch(/^file:\/\/\/.*test\/fixtures\/demo\/clip.mp4$/);
  });

  it('documents every setting in the generated reference, and docs/configuration.md is current', async () => {
    const md = renderConfigDocs();
    for (const key of ['deviceId', 'cameras[].uri', 'cameras[].roi.x', 'thresholds.minAgreement', 'http.port', 'models.manifest']) expect(md).toContain(`\`${key}\``);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync('docs/configuration.md', 'utf8')).toBe(md);
  });

  it('builds a default config for tools without a device config', () => {
    expect(defaultConfig().models.reader).toBe('reader-int8');
  });
});
