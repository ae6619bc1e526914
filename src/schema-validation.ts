import { createRequire } from 'node:module';
import type { ErrorObject } from 'ajv';
import type { Ajv2020, ValidateFunction } from 'ajv/dist/2020.js';

const require = createRequire(import.meta.url);

let ajv: Ajv2020 | undefined;

/**
 * The one Ajv for payloads and files checked against our TypeBox schemas (MQTT commands and
 * messages, signed hot lists): JSON Schema 2020-12, the draft docs/schemas are published in, with
 * the standard formats (date-time, uri, ...); the first error only, since callers refuse the input.
 * The config loader keeps an Ajv of its own: it fills in defaults and reports every field at once.
 * Made at the first compile, not at import: loading Ajv and its formats costs ~40-60 ms of the
 * daemon's start-up (issue 23), and a start without hot lists or MQTT commands never needs it.
 */
function payloadAjv(): Ajv2020 {
  if (ajv) return ajv;
  const { Ajv2020: Ajv } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  const addFormats = require('ajv-formats') as (a: Ajv2020) => Ajv2020;
  return (ajv = addFormats(new Ajv({ allErrors: false, strict: false })));
}

/** A validator for `schema`; one with an `$id` is compiled once however often it is asked for. */
export function compileSchema<T>(schema: object): ValidateFunction<T> {
  const id = (schema as { $id?: unknown }).$id;
  const known = typeof id === 'string' ? (payloadAjv().getSchema(id) as ValidateFunction<T> | undefined) : undefined;
  return known ?? payloadAjv().compile<T>(schema);
}

/** A validator that compiles itself on its first call; `errors` are those of its last call. */
export interface SchemaCheck<T> {
  (data: unknown): data is T;
  readonly errors: ErrorObject[] | null | undefined;
}

/**
 * For module-level validators: compiling a schema costs 10-40 ms of CPU, and a module that holds
 * several (signed hot lists, MQTT commands) is imported by every daemon start whether or not a
 * list or a command ever arrives (issue 23, start-up). Same validator, same errors, compiled later.
 */
export function lazySchema<T>(schema: object): SchemaCheck<T> {
  let compiled: ValidateFunction<T> | undefined;
  const check = (data: unknown): data is T => (compiled ??= compileSchema<T>(schema))(data);
  return Object.defineProperty(check, 'errors', { get: () => compiled?.errors }) as SchemaCheck<T>;
}
