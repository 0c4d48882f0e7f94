/**
 * The text of a configuration file read into a value, and the means to place errors in it. Text in
 * the subset fast-yaml.ts reads is read by it, without a syntax tree; anything else by the `yaml`
 * library, which also reports syntax errors. Line positions are only worked out when there are
 * errors to place: then the text is read once more, recording where each node starts.
 */
import { LineCounter, parseDocument } from "yaml";
import {
  type ConfigError,
  documentLocator,
  type LinePositions,
  type Locate,
  locateErrors,
  type RawError,
} from "./errors.js";
import { type Positions, readYaml } from "./fast-yaml.js";

/** A configuration file's text, read. */
export interface Source {
  /** The document's value, as the `yaml` library's `toJS` gives it. */
  value: unknown;
  /** Places errors in the text: paths to lines and columns. */
  locate(raw: readonly RawError[]): ConfigError[];
}

/** The source, or the errors that kept the text from being read. */
export type SourceResult = { ok: true; source: Source } | { ok: false; errors: ConfigError[] };

/** Line and column of offsets in `text`. */
function linePositions(text: string): LinePositions {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return {
    linePos(offset) {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= offset) lo = mid;
        else hi = mid - 1;
      }
      return { line: lo + 1, col: offset - starts[lo]! + 1 };
    },
  };
}

/** Locates paths in a value read by fast-yaml.ts with its positions. */
export function positionsLocator(value: unknown, positions: Positions): Locate {
  return (path, at) => {
    let current = value;
    let found: number | undefined = positions.root;
    for (const [i, segment] of path.entries()) {
      if (current === null || typeof current !== "object") return found;
      const list = Array.isArray(current);
      if (list && typeof segment !== "number") return found;
      const key = list ? segment : String(segment);
      const entry = positions.of.get(current)?.get(key);
      if (!entry) return found;
      if (!list && at === "key" && i === path.length - 1) return entry[0];
      current = (current as Record<string | number, unknown>)[key];
      found = entry[1];
    }
    return found;
  };
}

/** Reads configuration text. */
export function readSource(text: string): SourceResult {
  const fast = readYaml(text);
  if (fast)
    return {
      ok: true,
      source: {
        value: fast.value,
        locate(raw) {
          const located = readYaml(text, { positions: true });
          const where =
            located?.positions === undefined ? undefined : positionsLocator(located.value, located.positions);
          return locateErrors(raw, where, linePositions(text));
        },
      },
    };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0)
    return {
      ok: false,
      errors: doc.errors.map((e): ConfigError => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { path: "(root)", message: `YAML syntax error: ${e.message}`, line, column: col };
      }),
    };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    return { ok: false, errors: [{ path: "(root)", message: `YAML error: ${(err as Error).message}` }] };
  }
  return { ok: true, source: { value, locate: (raw) => locateErrors(raw, documentLocator(doc), lines) } };
}
