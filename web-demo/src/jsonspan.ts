// Positions in policy text: the engine reports UTF-8 byte offsets and 1-based line:column (in
// characters); the editor counts UTF-16 code units. Also finds where `Statement[i]` sits in the text.

/** The UTF-16 index in `text` of a UTF-8 byte offset. */
export function byteToIndex(text: string, byte: number): number {
  let bytes = 0;
  let i = 0;
  while (i < text.length && bytes < byte) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
    i++;
  }
  return i;
}

/** The UTF-16 index of a 1-based line and column counted in characters (code points). */
export function lineColumnToIndex(text: string, line: number, column: number): number {
  let i = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf("\n", i);
    if (next < 0) return text.length;
    i = next + 1;
  }
  for (let c = 1; c < column && i < text.length && text[i] !== "\n"; c++) {
    const code = text.charCodeAt(i);
    i += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
  }
  return i;
}

interface Span {
  from: number;
  to: number;
  entries?: Map<string, Span>;
  items?: Span[];
}

/** A small JSON reader that keeps where each value starts and ends; null on invalid JSON. */
function parseSpans(text: string): Span | null {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i])) i++;
  };
  const fail = (): never => {
    throw new SyntaxError(String(i));
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    if (i >= text.length) fail();
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): Span => {
    ws();
    const from = i;
    const c = text[i];
    if (c === "{") {
      i++;
      const entries = new Map<string, Span>();
      ws();
      if (text[i] === "}") i++;
      else
        for (;;) {
          ws();
          if (text[i] !== '"') fail();
          const key = string();
          ws();
          if (text[i++] !== ":") fail();
          entries.set(key, value());
          ws();
          const sep = text[i++];
          if (sep === "}") break;
          if (sep !== ",") fail();
        }
      return { from, to: i, entries };
    }
    if (c === "[") {
      i++;
      const items: Span[] = [];
      ws();
      if (text[i] === "]") i++;
      else
        for (;;) {
          items.push(value());
          ws();
          const sep = text[i++];
          if (sep === "]") break;
          if (sep !== ",") fail();
        }
      return { from, to: i, items };
    }
    if (c === '"') {
      string();
      return { from, to: i };
    }
    const m = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
    if (!m) fail();
    i += m![0].length;
    return { from, to: i };
  };
  try {
    const root = value();
    ws();
    return i === text.length ? root : null;
  } catch {
    return null;
  }
}

/** Where `Statement[index]` (or the single `Statement` object, index 0) sits in a policy's text. */
export function statementRange(text: string, index: number): { from: number; to: number } | null {
  const statement = parseSpans(text)?.entries?.get("Statement");
  if (!statement) return null;
  if (statement.items) return statement.items[index] ?? null;
  return index === 0 ? statement : null;
}
