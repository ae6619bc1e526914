import pino from 'pino';
import { cameraSourceOptions } from '../capture/camera-config.js';
import { buildPipelineDescription } from '../capture/pipeline-description.js';
import { matchImmigration } from '../access/immigration-agencies.js';
import { ConfigError } from '../config/load.js';
import { AlprError } from '../errors.js';
import type { Config } from '../config/schema.js';
import { loadPublisherKeys } from '../hotlist/extension.js';
import { resolveModel } from '../inference/manifest.js';
import { checkMqttConfig } from '../mqtt/connection.js';

const quiet = pino({ level: 'silent' });

/**
 * Everything `run` refuses at start with exit 78 beyond the schema, checked without starting
 * anything: camera sources (uri, geometry), the models the manifest names (present, checksums), the
 * hot-list publisher keys, the broker settings (P16: plain text only when allowed, TLS files
 * present), and the sharing MOU list (P14: no immigration agency on it, none a request could never
 * come from). `config check` and `run` both call this one function, so "valid" means the daemon starts.
 * Throws the one ConfigError, CaptureConfigError or ModelError found, or one ConfigError listing them
 * all (named by the first field); main.ts maps them to 78.
 */
export function checkConfigForRun(config: Config, file: string): void {
  // Every check runs, so one `config check` names every problem rather than the first.
  const problems: AlprError[] = [];
  const attempt = (check: () => void): void => {
    try {
      check();
    } catch (err) {
      if (!(err instanceof AlprError)) throw err;
      problems.push(err);
    }
  };
  // The same checks a CameraSource makes when the daemon constructs it (before any model loads).
  for (const cam of config.cameras) attempt(() => buildPipelineDescription(cameraSourceOptions(cam, quiet, async () => {}), new Set()));
  attempt(() => resolveModel(config.models.manifest, config.models.detector));
  attempt(() => resolveModel(config.models.manifest, config.models.reader));
  if (config.hotlists.enabled) {
    config.hotlists.publisherKeys.forEach((k, i) => attempt(() => {
      try {
        loadPublisherKeys({ ...config.hotlists, publisherKeys: [k] });
      } catch (err) {
        const field = `hotlists.publisherKeys.${i}.file`;
        throw new ConfigError(`${file}: ${field}: ${(err as NodeJS.ErrnoException).code ? `cannot read ${k.file} (${(err as NodeJS.ErrnoException).code})` : (err as Error).message}`, field, file);
      }
    }));
  }
  config.sharing.allowedAgencies.forEach((a, i) => {
    for (const [field, name] of [['name', a.name], ...a.aliases.map((n, k) => [`aliases.${k}`, n] as const)] as const) {
      const m = matchImmigration(name, 'agency');
      if (m) problems.push(new ConfigError(`${file}: sharing.allowedAgencies.${i}.${field} "${name}" names ${m.agency ?? `"${m.matched}"`}: no sharing for immigration enforcement (P14, California Values Act)`, `sharing.allowedAgencies.${i}.${field}`, file));
    }
    if (config.sharing.inStateOnly && a.state !== config.sharing.homeState) {
      problems.push(new ConfigError(`${file}: sharing.allowedAgencies.${i}.state ${a.state} is outside ${config.sharing.homeState}, and sharing.inStateOnly refuses every request from it`, `sharing.allowedAgencies.${i}.state`, file));
    }
  });
  attempt(() => {
    try {
      checkMqttConfig(config.mqtt);
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(`${file}: ${err.message}`, err.field, file);
      throw err;
    }
  });
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) {
    // One error naming the first field (exit 78), each problem on its own line as it reads alone.
    const prefix = `${file}: `;
    const lines = problems.map((p) => `  ${p.message.startsWith(prefix) ? p.message.slice(prefix.length) : p.message}`);
    throw new ConfigError(`${file}: ${problems.length} problems:\n${lines.join('\n')}`, problems[0]!.field, file);
  }
}
