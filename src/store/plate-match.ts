/** A partial plate pattern: `*` any run of characters, `?` or `_` exactly one. */
export function isWildcardPattern(pattern: string): boolean {
  return /[*?_]/.test(pattern);
}

export function wildcardMatcher(pattern: string): (plate: string) => boolean {
  const body = pattern
    .toUpperCase()
    .replace(/[^0-9A-Z*?_]/g, '')
    .split('')
    .map((c) => (c === '*' ? '[0-9A-Z]*' : c === '?' || c === '_' ? '[0-9A-Z]' : c))
    .join('');
  const re = new RegExp(`^${body}$`);
  return (plate) => re.test(plate);
}
