// What a 400 from a schema check says: the field, what it must be, and the valid values where there
// is a list of them, in words for the person at the other end of curl, not Ajv's ("must match a
// schema in anyOf"). The route's own schema supplies the valid names and descriptions, so the
// message cannot drift from what is validated.

export interface SchemaProblem {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

interface SchemaNode {
  type?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

/** Example of what `format: date-time` accepts: RFC 3339, with a time zone. */
const DATE_TIME_EXAMPLE = '2026-12-05T00:00:00Z or 2026-12-05T00:00:00-08:00';

function segments(instancePath: string | undefined): string[] {
  return (instancePath ?? '').split('/').filter((s) => s !== '').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function walk<T>(root: unknown, path: string[], step: (node: T, key: string) => unknown): unknown {
  let node = root;
  for (const key of path) {
    if (node === undefined || node === null) return undefined;
    node = step(node as T, key);
  }
  return node;
}

function schemaAt(schema: SchemaNode | undefined, path: string[]): SchemaNode | undefined {
  return walk<SchemaNode>(schema, path, (n, key) => (n.type === 'array' ? n.items : n.properties?.[key])) as SchemaNode | undefined;
}

function valueAt(input: unknown, path: string[]): unknown {
  return walk<Record<string, unknown>>(input, path, (n, key) => (typeof n === 'object' && Object.hasOwn(n, key) ? n[key] : undefined));
}

const show = (v: unknown) => (typeof v === 'string' ? `"${v.slice(0, 64)}"` : JSON.stringify(v)?.slice(0, 64) ?? 'nothing');

/**
 * One sentence for the first problem Ajv found. `schema` is the route's schema for that part of the
 * request (querystring, body, params) and `input` what the caller sent there.
 */
export function describeValidation(problems: SchemaProblem[], schema: unknown, input: unknown): string {
  const first = problems[0];
  if (!first) return 'request does not match its schema';
  const path = segments(first.instancePath);
  const name = path.join('.') || 'request';
  const node = schemaAt(schema as SchemaNode | undefined, path);
  const value = valueAt(input, path);
  const about = node?.description ? ` (${node.description})` : '';
  const p = first.params ?? {};
  switch (first.keyword) {
    case 'required': {
      const missing = String(p['missingProperty']);
      const full = path.length ? `${name}.${missing}` : missing;
      const d = schemaAt(schema as SchemaNode | undefined, [...path, missing])?.description;
      return `${full} is required${d ? `: ${d}` : ''}`;
    }
    case 'additionalProperties': {
      const extra = String(p['additionalProperty']);
      const valid = Object.keys(node?.properties ?? {});
      return `${path.length ? `${name}.` : ''}${extra} is not a parameter of this request${valid.length ? `; valid: ${valid.join(', ')}` : ''}`;
    }
    case 'const':
    case 'enum':
    case 'anyOf': {
      // A union of literals fails once per branch, then as a whole: gather the values it allows.
      const here = problems.filter((q) => (q.instancePath ?? '') === (first.instancePath ?? ''));
      const allowed = here.flatMap((q) => (q.keyword === 'const' ? [q.params?.['allowedValue']] : q.keyword === 'enum' ? ((q.params?.['allowedValues'] as unknown[]) ?? []) : []));
      if (allowed.length > 0) return `${name} must be one of ${allowed.map(String).join(', ')}, not ${show(value)}`;
      return `${name} has none of the accepted forms${about}, not ${show(value)}`;
    }
    case 'format':
      if (p['format'] === 'date-time') {
        const dateOnly = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value);
        return `${name} must be a date-time with a time zone, e.g. ${DATE_TIME_EXAMPLE}, not ${show(value)}${dateOnly ? `: a date alone starts at a different instant in each time zone; for the start of that day in UTC send ${value}T00:00:00Z` : ''}`;
      }
      return `${name} must be a ${String(p['format'])}, not ${show(value)}`;
    case 'minLength':
      return `${name} must have at least ${String(p['limit'])} characters${about}`;
    case 'maxLength':
      return `${name} must have at most ${String(p['limit'])} characters${about}`;
    case 'minimum':
    case 'maximum':
      return `${name} must be ${first.keyword === 'minimum' ? 'at least' : 'at most'} ${String(p['limit'])}, not ${show(value)}`;
    case 'minItems':
    case 'maxItems':
      return `${name} must have ${first.keyword === 'minItems' ? 'at least' : 'at most'} ${String(p['limit'])} items`;
    case 'type':
      return `${name} must be ${String(p['type'])}, not ${show(value)}`;
    case 'pattern':
      return `${name} is not in the expected form${about || ` (${String(p['pattern'])})`}, not ${show(value)}`;
    default:
      return `${name} ${first.message ?? 'is invalid'}${about}`;
  }
}
