import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileConfigValidator, configSchemaHash, stripJsonComments } from '../../src/config/load.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { configValidatorSource } from '../../scripts/build-config-validator.js';

/** The module npm run build writes, evaluated as CommonJS with this package's require. */
function precompiled(): ((data: unknown) => boolean) & { errors?: unknown; schemaHash?: string } {
  const module = { exports: {} as Record<string, unknown> };
  new Function('module', 'exports', 'require', configValidatorSource())(module, module.exports, createRequire(import.meta.url));
  return module.exports as unknown as ReturnType<typeof precompiled>;
}

describe('precompiled config validator (npm run build, issue 23 start-up)', () => {
  const built = precompiled();
  const compiled = compileConfigValidator(ConfigSchema);
  const configs: [string, unknown][] = [
    ['the example config', JSON.parse(stripJsonComments(readFileSync('config/example.jsonc', 'utf8')))],
    ['the demo config', JSON.parse(readFileSync('config/demo.json', 'utf8'))],
    ['an empty object', {}],
    ['wrong types and an unknown field', { deviceId: 'bad id!', location: { latitude: 'north' }, cameras: [{ id: 'c1', uri: 5 }], extra: true }],
  ];

  it.each(configs)('accepts or refuses %s with the same errors and fills the same defaults as Ajv compiling the schema now', (_name, config) => {
    const a = structuredClone(config);
    const b = structuredClone(config);
    expect(built(a)).toBe(compiled(b));
    expect(built.errors ?? null).toEqual(compiled.errors ?? null);
    expect(a).toEqual(b);
  });

  it('carries the hash of the schema it was built from, which load.ts checks before using it', () => {
    expect(built.schemaHash).toBe(configSchemaHash(ConfigSchema));
    expect(configSchemaHash(ConfigSchema)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('the schema module imports nothing but TypeBox, so the hash of its compiled file (what load.ts checks at start) covers the whole schema', () => {
    const imports = [...readFileSync('src/config/schema.ts', 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    expect(imports).toEqual(['@sinclair/typebox']);
  });
});
