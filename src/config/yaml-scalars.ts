/**
 * The scalars of fast-yaml.ts: plain scalars resolved as the `yaml` library's YAML 1.2 core schema
 * resolves them, quoted scalars on one line, and the characters that decide what the reader leaves
 * to the `yaml` library.
 */

/** Thrown inside the reader for text it leaves to the `yaml` library. */
export class Unsupported extends Error {}
export const unsupported = (): never => {
  throw new Unsupported();
};

const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
/**
 * Whether `text` holds a character this reader leaves to the `yaml` library wherever it appears:
 * a tab, a control character, a byte order mark, or a carriage return not before a line feed.
 */
export function refusedChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c !== 0x7f && c !== 0xfeff) continue;
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) === 0x0a)) continue;
    return true;
  }
  return false;
}
/** First characters of a plain scalar that mean something else (anchor, alias, tag, block scalar, ...). */
export const INDICATOR_START = new Set([
  "&",
  "*",
  "!",
  "|",
  ">",
  "%",
  "@",
  "`",
  ",",
  "]",
  "}",
  "?",
  ":",
  "-",
]);
export const FLOW_INDICATOR = new Set([",", "[", "]", "{", "}"]);
const ESCAPES: Record<string, string> = {
  "\\": "\\",
  '"': '"',
  "/": "/",
  n: "\n",
  t: "\t",
  r: "\r",
  "0": "\0",
  b: "\b",
  f: "\f",
};

/** A plain scalar's value, as the core schema resolves it. */
export function resolvePlain(s: string): unknown {
  const c = s[0];
  // Most scalars are words: only these first characters can start a null, a bool or a number.
  if (c === undefined || c === "~" || c === "n" || c === "N") return NULL.test(s) ? null : s;
  if (c === "t" || c === "T" || c === "f" || c === "F") return BOOL.test(s) ? c === "t" || c === "T" : s;
  if (!((c >= "0" && c <= "9") || c === "-" || c === "+" || c === ".")) return s;
  if (INT_OCT.test(s)) return Number.parseInt(s.substring(2), 8);
  if (INT.test(s)) return Number.parseInt(s, 10);
  if (INT_HEX.test(s)) return Number.parseInt(s.substring(2), 16);
  if (FLOAT_NAN.test(s))
    return s.slice(-3).toLowerCase() === "nan"
      ? Number.NaN
      : s[0] === "-"
        ? Number.NEGATIVE_INFINITY
        : Number.POSITIVE_INFINITY;
  if (FLOAT_EXP.test(s) || FLOAT.test(s)) return Number.parseFloat(s);
  return s;
}

export const isSpace = (c: string | undefined) => c === " ";
/** End of input, a line end, or a space: what may follow `-`, `:` and `?` as indicators. */
export const isBreakOrSpace = (c: string | undefined) =>
  c === undefined || c === " " || c === "\n" || c === "\r";

/** A quoted scalar at `offset` that closes before `end` (on its line): its value and the offset after it. */
export function readQuoted(text: string, offset: number, end: number): [string, number] {
  const quote = text[offset];
  let out = "";
  let i = offset + 1;
  let from = i;
  for (; i < end; i++) {
    const ch = text[i];
    if (quote === "'" && ch === "'") {
      if (text[i + 1] !== "'") break;
      out += text.slice(from, i + 1);
      from = ++i + 1;
    } else if (quote === '"' && ch === '"') break;
    else if (quote === '"' && ch === "\\") {
      out += text.slice(from, i);
      const e = text[i + 1] ?? unsupported();
      const digits = e === "x" ? 2 : e === "u" ? 4 : e === "U" ? 8 : 0;
      if (digits > 0) {
        const hex = text.slice(i + 2, i + 2 + digits);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits) unsupported();
        const code = Number.parseInt(hex, 16);
        if (code > 0x10ffff) unsupported();
        out += String.fromCodePoint(code);
        i += 1 + digits;
      } else {
        out += ESCAPES[e] ?? unsupported();
        i += 1;
      }
      from = i + 1;
    }
  }
  if (i >= end) unsupported(); // not closed on this line
  out += text.slice(from, i);
  return [out, i + 1];
}
