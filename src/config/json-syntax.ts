// Where a JSON text first stops being JSON, as line and column, with what was expected there.
// JSON.parse says "Unexpected token '}'" with no place at all for some mistakes, and quotes the
// whole text (a camera password included) for others; a person editing a config needs the line.

export interface JsonSyntaxProblem {
  /** 1-based line and column (in UTF-16 code units, as editors count them). */
  line: number;
  column: number;
  offset: number;
  message: string;
}

class Stop {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** The first syntax error of `text`, or undefined when it is JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | undefined {
  let i = 0;
  const fail = (message: string, at = i): never => {
    throw new Stop(at, message);
  };
  const found = () => (i >= text.length ? 'the end of the file' : `'${text[i]}'`);
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const string = () => {
    const start = i++;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        const e = text[i + 1];
        if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else fail('a backslash in a string must start an escape (\\\\, \\", \\n, \\uXXXX ...)');
      } else if (c < ' ') fail('a line break or control character inside a string (a closing " missing?)');
      else i++;
    }
    fail('a string is not closed (a closing " missing)', start);
  };
  const afterComma = (close: string) => (text[i] === close ? ` (a comma before '${close}' is not allowed in JSON)` : '');
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') return void i++;
      for (;;) {
        space();
        if (text[i] !== '"') fail(`expected a property name in double quotes, found ${found()}${afterComma('}')}`);
        string();
        space();
        if (text[i] !== ':') fail(`expected ':' after the property name, found ${found()}`);
        i++;
        value();
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') return void i++;
        fail(`expected ',' or '}' after the property's value, found ${found()}`);
      }
    }
    if (c === '[') {
      i++;
      space();
      if (text[i] === ']') return void i++;
      for (;;) {
        space();
        if (text[i] === ']') fail(`expected a value, found ']'${afterComma(']')}`);
        value();
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') return void i++;
        fail(`expected ',' or ']' after the array's element, found ${found()}`);
      }
    }
    if (c === '"') return string();
    NUMBER.lastIndex = i;
    if (NUMBER.test(text)) return void (i = NUMBER.lastIndex);
    for (const literal of ['true', 'false', 'null']) if (text.startsWith(literal, i)) return void (i += literal.length);
    fail(`expected a value (a string in double quotes, a number, true, false, null, an object or an array), found ${found()}`);
  };
  try {
    value();
    space();
    if (i < text.length) fail(`expected the end of the file after the value, found ${found()}`);
    return undefined;
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    return { ...lineAndColumn(text, err.offset), offset: err.offset, message: err.message };
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}
