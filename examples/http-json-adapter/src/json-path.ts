/**
 * Picks a value out of a JSON document with a JSONPath, with the semantics of the MQTT adapter's
 * `path` (tagbridge's protocols/mqtt/extract.ts `select`): a plain chain of keys and indices
 * (`$.a.b[0]`, `$['x y']`) is walked directly; anything else goes through jsonpath-plus with
 * `eval: "safe"`. Array points take every match; other points the first. Pure.
 */
import { JSONPath } from "jsonpath-plus";

/** Status of a sample whose JSONPath matched nothing. */
export const PATH_NOT_FOUND = "PathNotFound";

/** The value found, or the status of a bad sample. */
export type Selected = { ok: true; value: unknown } | { ok: false; status: string };

const SIMPLE_PATH = /^\$((\.[A-Za-z_$][\w$-]*)|(\[\d+\])|(\['[^'\]]*'\]))*$/;
const SIMPLE_STEP = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^'\]]*)'\]/g;

/** Evaluates `path` on `doc`; with `many`, every match as an array (for array points). Never throws. */
export function select(doc: unknown, path: string, many: boolean): Selected {
  if (SIMPLE_PATH.test(path)) {
    let cur: unknown = doc;
    for (const m of path.matchAll(SIMPLE_STEP)) {
      if (cur === null || typeof cur !== "object") return { ok: false, status: PATH_NOT_FOUND };
      const key = m[1] ?? m[3] ?? Number(m[2]);
      if (!Object.hasOwn(cur, key)) return { ok: false, status: PATH_NOT_FOUND };
      cur = (cur as Record<string | number, unknown>)[key];
    }
    return { ok: true, value: cur };
  }
  let results: unknown[];
  try {
    results = JSONPath({ path, json: doc as object, wrap: true, eval: "safe" }) as unknown[];
  } catch {
    return { ok: false, status: PATH_NOT_FOUND };
  }
  if (!Array.isArray(results) || results.length === 0) return { ok: false, status: PATH_NOT_FOUND };
  if (many)
    return { ok: true, value: results.length === 1 && Array.isArray(results[0]) ? results[0] : results };
  return { ok: true, value: results[0] };
}
