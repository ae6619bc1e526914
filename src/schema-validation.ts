import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/**
 * The one Ajv for payloads and files checked against our TypeBox schemas (MQTT commands and
 * messages, signed hot lists): JSON Schema 2020-12, the draft docs/schemas are published in, with
 * the standard formats (date-time, uri, ...); the first error only, since callers refuse the input.
 * The config loader keeps an Ajv of its own: it fills in defaults and reports every field at once.
 */
const ajv = addFormats(new Ajv2020({ allErrors: false, strict: false }));

/** A validator for `schema`; one with an `$id` is compiled once however often it is asked for. */
export function compileSchema<T>(schema: object): ValidateFunction<T> {
  const id = (schema as { $id?: unknown }).$id;
  const known = typeof id === 'string' ? (ajv.getSchema(id) as ValidateFunction<T> | undefined) : undefined;
  return known ?? ajv.compile<T>(schema);
}
