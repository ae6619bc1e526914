import { resolveInstallPaths, validateConfig } from './load.js';
import type { Config } from './schema.js';

/**
 * A complete configuration from the schema's defaults, for commands that run without a device
 * config (the `read` CLI, benchmarks, tests). Camera and location are placeholders. Relative paths
 * resolve against the install directory, as in a loaded config, not against the working directory.
 */
export function defaultConfig(overrides: Record<string, unknown> = {}): Config {
  return resolveInstallPaths(validateConfig({
    deviceId: 'local',
    location: { latitude: 0, longitude: 0, headingDeg: 0, description: 'not configured' },
    cameras: [{ id: 'cli', uri: 'test://' }],
    models: {},
    thresholds: {},
    http: {},
    log: {},
    ...overrides,
  }, '(defaults)'));
}
