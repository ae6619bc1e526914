import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { ConfigSchema, type Config } from './schema.js';
import { AlprError, EX_CONFIG } from '../errors.js';

/** A configuration problem a person must fix; the daemon exits 78 (EX_CONFIG) on it. */
export class ConfigError extends AlprError {
  constructor(
    message: string,
    field: string,
    readonly file: string,
  ) {
    super(message, field, EX_CONFIG);
  }
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validate = ajv.compile<Config>(ConfigSchema);

/** Removes // and /* *\/ comments outside strings so the shipped example can explain itself. */
export function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const next = text[i + 1];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && next === '*') {
      i += 2;
      while (i < text.length && !(text[i] === '*' && text[i + 1] === '/')) i++;
      i++;
    } else out += c;
  }
  return out;
}

function describe(e: ErrorObject): { field: string; message: string } {
  let field = e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(top level)';
  let expected = e.message ?? 'is invalid';
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    field = field === '(top level)' ? missing : `${field}.${missing}`;
    expected = 'is required';
  } else if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    field = field === '(top level)' ? extra : `${field}.${extra}`;
    expected = 'is not a known setting (check its spelling in docs/configuration.md)';
  } else if (e.keyword === 'pattern') {
    expected = `must match ${(e.params as { pattern: string }).pattern}`;
  }
  return { field, message: expected };
}

/** Validates a parsed object, filling defaults in place; throws ConfigError naming the first bad field. */
export function validateConfig(raw: unknown, file = '(inline)'): Config {
  const copy = structuredClone(raw);
  if (validate(copy)) {
    checkCameraIdsUnique(copy, file);
    return copy;
  }
  // Errors from anyOf/union branches repeat each other; report the most specific first.
  const errors = [...(validate.errors ?? [])].sort((a, b) => b.instancePath.length - a.instancePath.length);
  const first = describe(errors[0]!);
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
  throw new ConfigError(`${file}: ${first.field} ${first.message}${more}`, first.field, file);
}

function checkCameraIdsUnique(config: Config, file: string): void {
  const seen = new Set<string>();
  config.cameras.forEach((c, i) => {
    if (seen.has(c.id)) throw new ConfigError(`${file}: cameras.${i}.id "${c.id}" is used by two cameras`, `cameras.${i}.id`, file);
    seen.add(c.id);
  });
}

/**
 * Reads, comment-strips, parses and validates a config file. Relative file paths inside the config
 * (models.manifest, relative file:// camera paths) resolve against the install directory.
 */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read config file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, '(file)', file);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(stripJsonComments(text));
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON: ${(err as Error).message}`, '(file)', file);
  }
  return resolveInstallPaths(validateConfig(raw, file));
}

/**
 * Makes the config's relative paths absolute against the install directory, so a command works the
 * same from any working directory: models.manifest, and relative clip paths (file://relative/path).
 */
export function resolveInstallPaths(config: Config): Config {
  for (const cam of config.cameras) {
    if (cam.uri.startsWith('file://') && !cam.uri.startsWith('file:///')) {
      cam.uri = `file://${resolveInstallPath(cam.uri.slice("file://".length))}`;
    }
  }
  if (!isAbsolute(config.models.manifest)) config.models.manifest = resolveInstallPath(config.models.manifest);
  return config;
}

/** Paths like models/manifest.json are relative to the installed package, wherever it runs from. */
export function resolveInstallPath(p: string): string {
  return resolve(installDir(), p);
}

export function installDir(): string {
  // dist/src/config/load.js → package root is three levels up; src/config/load.ts (vitest) two.
  const here = dirname(new URL(import.meta.url).pathname);
  return here.includes('/dist/') ? resolve(here, '../../..') : resolve(here, '../..');
}
