import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Ajv as AjvClass, ErrorObject, Options as AjvOptions, ValidateFunction } from 'ajv';
import type { Config } from './schema.js';
import { AlprError, EX_CONFIG } from '../errors.js';
import { findJsonSyntaxError } from './json-syntax.js';

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

/** How the config is validated: every problem at once, defaults filled in. */
export const CONFIG_AJV_OPTIONS: AjvOptions = { allErrors: true, useDefaults: true, strict: false };
/** Written by scripts/build-config-validator.ts (npm run build) beside this file in dist/. */
export const PRECOMPILED_VALIDATOR = 'config-validator.cjs';

const require = createRequire(import.meta.url);

/**
 * The hash a precompiled validator is checked against by scripts/build-config-validator.ts's tests:
 * the schema as JSON, the options and the Ajv version, so a validator built from another schema or
 * Ajv is told apart.
 */
export function configSchemaHash(schema: object): string {
  const ajvVersion = (require('ajv/package.json') as { version: string }).version;
  return createHash('sha256').update(`${ajvVersion}\n${JSON.stringify(CONFIG_AJV_OPTIONS)}\n${JSON.stringify(schema)}`).digest('hex');
}

/**
 * What a precompiled validator must carry to be used, checked without evaluating the schema: the
 * bytes of the compiled schema module beside this file (dist/src/config/schema.js, which imports
 * nothing but TypeBox: test/unit/config-validator.test.ts), the TypeBox and Ajv versions and the
 * options. A dist/ rebuilt by `tsc` alone (no build step) or an upgraded Ajv or TypeBox never
 * validates against a stale schema. Undefined where there is no compiled schema module (vitest).
 */
export function configSourceHash(): string | undefined {
  let schemaModule: Buffer;
  try {
    schemaModule = readFileSync(new URL('./schema.js', import.meta.url));
  } catch {
    return undefined;
  }
  return createHash('sha256')
    .update(`ajv ${packageVersion('ajv')}\ntypebox ${packageVersion('@sinclair/typebox')}\n${JSON.stringify(CONFIG_AJV_OPTIONS)}\n`)
    .update(schemaModule)
    .digest('hex');
}

/** An installed package's version, from the package.json above its entry (TypeBox exports no ./package.json). */
function packageVersion(name: string): string {
  const entry = require.resolve(name);
  const dir = `/node_modules/${name}/`;
  return (JSON.parse(readFileSync(`${entry.slice(0, entry.lastIndexOf(dir) + dir.length)}package.json`, 'utf8')) as { version: string }).version;
}

/** The validator npm run build precompiled (Ajv standalone code), when it was built from this schema. */
function precompiledValidator(): ValidateFunction<Config> | undefined {
  let built: ValidateFunction<Config> & { sourceHash?: string };
  try {
    built = require(`./${PRECOMPILED_VALIDATOR}`) as typeof built;
  } catch {
    // Not built (vitest runs src/, a plain `tsc` build): compiled from the schema instead.
    return undefined;
  }
  const hash = configSourceHash();
  return hash !== undefined && built.sourceHash === hash ? built : undefined;
}

const precompiled = precompiledValidator();
/**
 * The schema is evaluated only where no precompiled validator matches it: TypeBox is ~220 modules,
 * ~60-80 ms of CPU that a `read` of one image would otherwise spend before anything else (issue 23).
 */
const schemaModule = precompiled ? undefined : await import('./schema.js');

let validator: ValidateFunction<Config> | undefined;

/**
 * The config validator, made on first use: the precompiled one when it matches this schema, else
 * compiled now. Compiling the schema costs ~120 ms of CPU, the largest single part of a `read`'s
 * start-up before it was precompiled (issue 23).
 */
function configValidator(): ValidateFunction<Config> {
  return (validator ??= precompiled ?? compileConfigValidator(schemaModule!.ConfigSchema));
}

/** Ajv compiled for the config schema; `source` keeps the code for scripts/build-config-validator.ts. */
export function compileConfigValidator(schema: object, source = false): ValidateFunction<Config> & { ajv: AjvClass } {
  const { Ajv } = require('ajv') as typeof import('ajv');
  const ajv = new Ajv({ ...CONFIG_AJV_OPTIONS, ...(source ? { code: { source: true } } : {}) });
  return Object.assign(ajv.compile<Config>(schema), { ajv });
}

/**
 * Blanks out // and /* *\/ comments outside strings so the shipped example can explain itself. Each
 * comment character becomes a space (its line breaks stay), so a syntax error's line and column
 * are those of the file as written.
 */
export function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  const blank = (c: string) => (c === '\n' || c === '\r' ? c : ' ');
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
      while (i < text.length && text[i] !== '\n') out += blank(text[i++]!);
      i--;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      for (; i < stop; i++) out += blank(text[i]!);
      i--;
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

/**
 * One ConfigError for every problem found, so a person fixes them in one pass: named by the first
 * field (the exit status and `field` stay those of one error), each problem on a line of its own.
 */
export function configProblems(file: string, problems: readonly { field: string; message: string }[]): ConfigError {
  if (problems.length === 1) return new ConfigError(`${file}: ${problems[0]!.field} ${problems[0]!.message}`, problems[0]!.field, file);
  return new ConfigError(`${file}: ${problems.length} problems:\n${problems.map((p) => `  ${p.field} ${p.message}`).join('\n')}`, problems[0]!.field, file);
}

/** Validates a parsed object, filling defaults in place; throws one ConfigError naming every bad field. */
export function validateConfig(raw: unknown, file = '(inline)'): Config {
  const copy = structuredClone(raw);
  const validate = configValidator();
  if (validate(copy)) {
    checkCameraIdsUnique(copy, file);
    return copy;
  }
  // Errors from anyOf/union branches repeat each other: the most specific first, one per field.
  const errors = [...(validate.errors ?? [])].sort((a, b) => b.instancePath.length - a.instancePath.length);
  const byField = new Map<string, { field: string; message: string }>();
  for (const e of errors) {
    const d = describe(e);
    if (!byField.has(d.field)) byField.set(d.field, d);
  }
  throw configProblems(file, [...byField.values()]);
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
  const json = stripJsonComments(text);
  try {
    raw = JSON.parse(json);
  } catch (err) {
    // Line and column of the file as written; never JSON.parse's message, which may quote the
    // whole file (passwords included).
    const at = findJsonSyntaxError(json);
    throw new ConfigError(at ? `${file}: not valid JSON at line ${at.line}, column ${at.column}: ${at.message}` : `${file}: not valid JSON (${(err as Error).name})`, '(file)', file);
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
