/**
 * The compact Reading batch, version 1: many Readings of one gateway in one JSON object, the fields
 * they share written once and each Reading as a row (an array) in a fixed column order. It is what
 * the MQTT north sink sends with `payload: batch` and `batch.encoding: compact`; a receiver turns
 * it back into Readings with {@link decodeCompactBatch}.
 *
 * ```json
 * {"v":1,"gateway":"gw1","t0":"2025-01-01T00:00:00.000Z","columns":["device","point","value",
 *  "type","quality","ts","receivedAt","seq","protocol","status","unit","address"],
 *  "rows":[["press-1","temp",21.5,"float64","good",0,3,42,"modbus"],
 *          ["press-1","state",null,"string","bad",0,3,43,"modbus","Timeout"]]}
 * ```
 *
 * Rules: `v` is 1; `gateway` is the `gateway` of every row; `t0` is a base time (ISO 8601 UTC with
 * milliseconds, as in a Reading); `columns` is always the list above (sent so that a receiver can
 * check it, never reordered within v1). A row holds the first 9 columns (the required Reading
 * fields; `value` may be null), then the optional `status`, `unit`, `address`: a trailing absent
 * one is left out, an absent one before a present one is `null`. `ts` and `receivedAt` are an
 * integer, milliseconds after `t0` (negative: before), or the Reading's ISO string itself. Every
 * other value is as in the Reading v1 schema. This file is the only declaration of the shape: its
 * TypeScript type, validation, the published JSON Schema (`config/reading-batch.v1.schema.json`),
 * the row format of the writer and the decoder.
 */
import Type, { type Static } from "typebox";
import { Compile } from "typebox/compile";
import { isReading, type Reading, readingErrors } from "./reading.js";
import { type ReadingFormat, ReadingWriter } from "./reading-json.js";

/** The columns of a row, in order; the first 9 are always present. */
export const COMPACT_COLUMNS = [
  "device",
  "point",
  "value",
  "type",
  "quality",
  "ts",
  "receivedAt",
  "seq",
  "protocol",
  "status",
  "unit",
  "address",
] as const;
const REQUIRED_COLUMNS = 9;
const TS = COMPACT_COLUMNS.indexOf("ts");
const RECEIVED_AT = COMPACT_COLUMNS.indexOf("receivedAt");

/** ISO string of a time in ms, or the number itself when it is out of Date's range (then invalid). */
const isoOrInvalid = (ms: number): string | number => {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? ms : d.toISOString();
};

/**
 * The base time of a batch starting with a Reading whose ts is `iso`: its ms when the ISO string
 * is exactly what `toISOString` gives back for them, else NaN (then the batch's rows carry ISO
 * strings).
 */
export function compactBase(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && new Date(ms).toISOString() === iso ? ms : Number.NaN;
}

/** The compact batch schema, version 1. */
export const CompactBatchSchema = Type.Object(
  {
    v: Type.Literal(1, { description: "Version of this batch shape: 1." }),
    gateway: Type.String({ minLength: 1, description: "The `gateway` of every Reading in the batch." }),
    t0: Type.String({
      pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$",
      description:
        "Base time, ISO 8601 UTC with milliseconds: a row's ts or receivedAt given as an integer is that many ms after it.",
    }),
    columns: Type.Tuple(
      COMPACT_COLUMNS.map((c) => Type.Literal(c)),
      {
        description: `The Reading fields of a row, in order: always ${COMPACT_COLUMNS.join(", ")}.`,
      },
    ),
    rows: Type.Array(
      Type.Array(Type.Unknown(), {
        minItems: REQUIRED_COLUMNS,
        maxItems: COMPACT_COLUMNS.length,
        description:
          "One Reading: its fields in `columns` order, as in the Reading v1 schema, except ts and receivedAt, which may be an integer: ms after t0. The first 9 are always present (value may be null); status, unit and address are null when absent, and left out at the end of the row.",
      }),
      { description: "The Readings, in order (oldest seq first per point)." },
    ),
  },
  {
    $id: "https://tagbridge.dev/schema/reading-batch.v1.json",
    title: "tagbridge compact Reading batch v1",
    description:
      "Readings of one gateway in one message: shared fields once, each Reading a row of values in `columns` order. Sent by the MQTT north sink with batch.encoding: compact.",
    additionalProperties: false,
  },
);

/** A compact batch of Readings. */
export type CompactBatch = Static<typeof CompactBatchSchema>;

const compiled = Compile(CompactBatchSchema);

/** True when `value` has the shape of a compact batch v1 (its rows are checked by decoding). */
export function isCompactBatch(value: unknown): value is CompactBatch {
  return compiled.Check(value);
}

/**
 * The Readings of a compact batch (parsed JSON), in order. Throws when it is not a compact batch
 * v1 or a row does not make a valid Reading.
 */
export function decodeCompactBatch(batch: unknown): Reading[] {
  if (!compiled.Check(batch)) {
    const e = [...compiled.Errors(batch)][0];
    throw new Error(`not a compact Reading batch v1: ${e ? `${e.instancePath || "/"}: ${e.message}` : ""}`);
  }
  const { gateway } = batch;
  const t0 = Date.parse(batch.t0);
  const time = (v: unknown) =>
    Number.isInteger(v) && Number.isFinite(t0) ? isoOrInvalid(t0 + (v as number)) : v;
  return batch.rows.map((row, i) => {
    const r: Record<string, unknown> = { gateway };
    for (let c = 0; c < row.length; c++) {
      const v = row[c];
      if (c === TS || c === RECEIVED_AT) r[COMPACT_COLUMNS[c]!] = time(v);
      else if (c < REQUIRED_COLUMNS || (v !== null && v !== undefined)) r[COMPACT_COLUMNS[c]!] = v;
    }
    if (!isReading(r)) throw new Error(`compact batch row ${i}: ${readingErrors(r).join("; ")}`);
    return r;
  });
}

/** The JSON text before the rows of a compact batch of `gateway`'s Readings with base time `t0`. */
export const compactBatchHead = (gateway: string, t0: string): string =>
  `{"v":1,"gateway":${JSON.stringify(gateway)},"t0":${JSON.stringify(t0)},"columns":${COLUMNS_JSON},"rows":[`;
const COLUMNS_JSON = JSON.stringify(COMPACT_COLUMNS);
/** The JSON text after the rows. */
export const COMPACT_BATCH_TAIL = "]}";

/** A compact time: ms after `t0`, or the ISO string itself when either has no exact ms. */
const compactTime = (iso: string, t0: number): string => {
  const d = compactBase(iso) - t0;
  return Number.isFinite(d) ? `${d}` : JSON.stringify(iso);
};

/** A Reading as a compact row (equal to `JSON.stringify` of the row array); see the file's comment. */
export const COMPACT_ROW: ReadingFormat = {
  head: (_gateway, device, point) => `[${JSON.stringify(device)},${JSON.stringify(point)},`,
  middle: (type, quality, _protocol, ts, receivedAt, t0) =>
    `,${JSON.stringify(type)},${JSON.stringify(quality)},${compactTime(ts, t0)},${compactTime(receivedAt, t0)},`,
  tail(protocol, status, unit, address) {
    const optional = [status, unit, address];
    while (optional.length > 0 && optional.at(-1) === undefined) optional.pop();
    const rest = optional.map((x) => (x === undefined ? ",null" : `,${JSON.stringify(x)}`)).join("");
    return `,${JSON.stringify(protocol)}${rest}]`;
  },
};

/**
 * A row writer: Readings as compact rows of batches (each with its base time `t0`), into a
 * {@link ByteBuffer}. Stateful only as caches, so use one per sink.
 */
export const compactRowWriter = (): ReadingWriter => new ReadingWriter(COMPACT_ROW);
