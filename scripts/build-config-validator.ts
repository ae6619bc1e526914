// `npm run build`: the config validator as Ajv standalone code, so a command starts without
// compiling the config schema (~120 ms of CPU, the largest single part of a `read`'s start-up,
// issue 23). src/config/load.ts uses it only while its schema hash matches, and compiles otherwise.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import standaloneModule from 'ajv/dist/standalone/index.js';
import { compileConfigValidator, configSchemaHash, configSourceHash, PRECOMPILED_VALIDATOR } from '../src/config/load.js';
import { ConfigSchema } from '../src/config/schema.js';

// A CommonJS module whose export is the function: the ESM default import is that function at run time.
const standaloneCode = standaloneModule as unknown as typeof standaloneModule.default;

/**
 * CommonJS source of the validator, with the hash of the schema it was built from and the hash
 * load.ts checks at start without evaluating the schema (the compiled schema module's bytes; none
 * under vitest, where src/config/schema.ts is not compiled to a file).
 */
export function configValidatorSource(): string {
  const validate = compileConfigValidator(ConfigSchema, true);
  const sourceHash = configSourceHash();
  return `${standaloneCode(validate.ajv, validate)}\nmodule.exports.schemaHash = ${JSON.stringify(configSchemaHash(ConfigSchema))};\n${sourceHash === undefined ? '' : `module.exports.sourceHash = ${JSON.stringify(sourceHash)};\n`}`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // dist/scripts/ → dist/src/config/, beside the compiled load.js that requires it.
  const out = join(dirname(fileURLToPath(import.meta.url)), '../src/config', PRECOMPILED_VALIDATOR);
  writeFileSync(out, configValidatorSource());
  process.stdout.write(`config validator: ${out}\n`);
}
