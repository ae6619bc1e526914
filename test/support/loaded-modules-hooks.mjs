// Module hooks thread of loaded-modules.mjs: records each resolved ES module with its parent.
import { appendFileSync } from 'node:fs';

let file;
export function initialize(data) {
  file = data.file;
}

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(file, `${context.parentURL ?? '-'} ${result.url}\n`);
  return result;
}
