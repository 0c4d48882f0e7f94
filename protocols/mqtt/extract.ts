/**
 * Payload extraction: from one MQTT message payload to the values of the points it carries. A
 * payload is either raw (the whole payload is the value: a number, a boolean, a string) or JSON,
 * from which each point picks its value, and optionally a timestamp and a quality, with a JSONPath
 * (jsonpath-plus). A JSON payload is parsed once and shared by every point reading it.
 * Pure: no sockets, no timers.
 */
import { JSONPath } from "jsonpath-plus";

/** How a point reads its payload. */
export type PayloadFormat = "json" | "raw";

/** Quality as a payload may state it. */
export type ExtractedQuality = "good" | "uncertain" | "bad";

/** Status of a sample whose payload is not JSON although the point expects JSON. */
export const NOT_JSON = "NotJson";
/** Status of a sample whose JSONPath matched nothing. */
export const PATH_NOT_FOUND = "PathNotFound";
/** Status of a sample whose raw payload cannot be read as the point's type. */
export const TYPE_MISMATCH = "TypeMismatch";
/** Status of a sample whose quality field holds something other than good/uncertain/bad or a boolean. */
export const BAD_QUALITY_FIELD = "BadQualityField";
/** Status of a sample whose timestamp field is not epoch ms or an ISO 8601 string. */
export const BAD_TIMESTAMP = "BadTimestamp";

/** What a point needs to know to extract its value. */
export interface ExtractSpec {
  /** Declared point type, e.g. `float64`, `bool`, `int32[]`. */
  type: string;
  format: PayloadFormat;
  /** JSONPath of the value (JSON only); `$` (the whole document) when absent. */
  path?: string | undefined;
  /** JSONPath of a source timestamp (epoch ms or ISO 8601); when it matches nothing, no `sourceTs`. */
  timestampPath?: string | undefined;
  /** JSONPath of a quality: `good` / `uncertain` / `bad` or a boolean; when it matches nothing, no `quality` (good). */
  qualityPath?: string | undefined;
}

/** The outcome for one point: a value (with optional timestamp and quality), or a bad status. */
export type Extracted =
  | { ok: true; value: unknown; sourceTs?: number | string; quality?: ExtractedQuality }
  | { ok: false; status: string };

/** A payload parsed at most once, shared by all points of one message. */
export class ParsedPayload {
  #json: { ok: true; doc: unknown } | { ok: false } | undefined;
  #text: string | undefined;

  constructor(readonly bytes: Uint8Array) {}

  /** The payload as UTF-8 text. */
  text(): string {
    this.#text ??= Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString(
      "utf8",
    );
    return this.#text;
  }

  /** The payload parsed as JSON, or undefined when it is not JSON. */
  json(): { ok: true; doc: unknown } | { ok: false } {
    if (!this.#json) {
      try {
        this.#json = { ok: true, doc: JSON.parse(this.text()) };
      } catch {
        this.#json = { ok: false };
      }
    }
    return this.#json;
  }
}

/** Extracts one point's value from a payload. Never throws. */
export function extract(spec: ExtractSpec, payload: ParsedPayload): Extracted {
  if (spec.format === "raw") return rawValue(spec.type, payload);
  const parsed = payload.json();
  if (!parsed.ok) return { ok: false, status: NOT_JSON };
  const found = select(parsed.doc, spec.path ?? "$", spec.type.endsWith("[]"));
  if (!found.ok) return found;
  const out: Extracted = { ok: true, value: found.value };
  // The timestamp and the quality are optional fields: absent, the caller uses the time of receipt
  // and `good`. Present but unusable, the point is bad: a value of unknown time or quality is not good.
  if (spec.timestampPath) {
    const ts = select(parsed.doc, spec.timestampPath, false);
    if (ts.ok) {
      if (!validTimestamp(ts.value)) return { ok: false, status: BAD_TIMESTAMP };
      out.sourceTs = ts.value;
    }
  }
  if (spec.qualityPath) {
    const q = select(parsed.doc, spec.qualityPath, false);
    if (!q.ok) return out;
    const quality = toQuality(q.value);
    if (!quality) return { ok: false, status: BAD_QUALITY_FIELD };
    out.quality = quality;
  }
  return out;
}

function validTimestamp(v: unknown): v is number | string {
  if (typeof v === "number") return Number.isFinite(v);
  return typeof v === "string" && !Number.isNaN(Date.parse(v));
}

function toQuality(v: unknown): ExtractedQuality | undefined {
  if (typeof v === "boolean") return v ? "good" : "bad";
  if (typeof v !== "string") return undefined;
  const q = v.toLowerCase();
  return q === "good" || q === "uncertain" || q === "bad" ? q : undefined;
}

const SIMPLE_PATH = /^\$((\.[A-Za-z_$][\w$-]*)|(\[\d+\])|(\['[^'\]]*'\]))*$/;
const SIMPLE_STEP = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^'\]]*)'\]/g;

/** Whether a JSONPath is a plain chain of keys and indices, evaluated without jsonpath-plus. */
export function isSimplePath(path: string): boolean {
  return SIMPLE_PATH.test(path);
}

/**
 * Evaluates a JSONPath on a document. A plain chain (`$.a.b[0]`) is walked directly (the hot path);
 * anything else goes through jsonpath-plus. With `many`, every match is returned as an array (for
 * array points); otherwise the first match.
 */
export function select(doc: unknown, path: string, many: boolean): Extracted {
  if (isSimplePath(path)) {
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

const NUMERIC = new Set(["int16", "uint16", "int32", "uint32", "float32", "float64"]);

/** Reads a raw payload as a value of the point's type. */
export function rawValue(type: string, payload: ParsedPayload): Extracted {
  if (type === "bytes") return { ok: true, value: payload.bytes };
  const text = payload.text().trim();
  if (type === "string" || type === "datetime") return { ok: true, value: payload.text() };
  if (type === "int64" || type === "uint64") {
    if (/^-?\d+$/.test(text)) return { ok: true, value: text };
    return { ok: false, status: TYPE_MISMATCH };
  }
  if (NUMERIC.has(type)) {
    const n = text === "" ? Number.NaN : Number(text);
    return Number.isNaN(n) ? { ok: false, status: TYPE_MISMATCH } : { ok: true, value: n };
  }
  if (type === "bool") {
    const t = text.toLowerCase();
    if (t === "true" || t === "1" || t === "on") return { ok: true, value: true };
    if (t === "false" || t === "0" || t === "off") return { ok: true, value: false };
    return { ok: false, status: TYPE_MISMATCH };
  }
  // json and array types: the payload itself as JSON.
  const parsed = payload.json();
  return parsed.ok ? { ok: true, value: parsed.doc } : { ok: false, status: NOT_JSON };
}

/** Encodes a value written to a point as a command payload. */
export function encodeCommand(
  format: PayloadFormat,
  value: unknown,
  meta: { point: string; ts: string },
): string {
  if (format === "json") return JSON.stringify({ point: meta.point, value, ts: meta.ts });
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}
