/**
 * The pure rules behind the sink conformance kit: each takes a definition, a sink object or what a
 * peer received, and returns the problems found as readable lines (empty when all is well). Also
 * the readings the kit publishes, and the batch encoding it uses (the core's own `Batcher`).
 */
import { isDeepStrictEqual } from "node:util";
import semver from "semver";
import type { TObject } from "typebox";
import { Batcher, readingsOf } from "../north/batcher.js";
import type { Reading } from "../schema/reading.js";
import { TYPE_NAME } from "./conformance-rules.js";
import {
  CORE_SINK_FIELDS,
  type Sink,
  type SinkBatch,
  type SinkBatchPolicy,
  type SinkCapability,
  type SinkDefinition,
} from "./sink.js";
import { SDK_VERSION } from "./version.js";

export { CORE_SINK_FIELDS } from "./sink.js";

const CAPABILITIES: readonly SinkCapability[] = ["ack", "replay", "batch"];

/** Problems with a definition's own fields: type name, description, sdk range, capabilities, schema. */
export function sinkDefinitionProblems(def: SinkDefinition<TObject>): string[] {
  const problems: string[] = [];
  if (typeof def.type !== "string" || !TYPE_NAME.test(def.type))
    problems.push(`type ${JSON.stringify(def.type)} must match ${TYPE_NAME}`);
  if (typeof def.description !== "string" || def.description.trim() === "")
    problems.push("description is empty");
  if (typeof def.sdk !== "string" || !semver.validRange(def.sdk)) {
    problems.push(`sdk ${JSON.stringify(def.sdk)} is not a semver range (e.g. ^1.0.0)`);
  } else if (!semver.satisfies(SDK_VERSION, def.sdk)) {
    problems.push(`sdk range ${def.sdk} excludes this SDK, ${SDK_VERSION}`);
  }
  if (!Array.isArray(def.capabilities)) problems.push("capabilities is not an array");
  else {
    for (const c of def.capabilities)
      if (!CAPABILITIES.includes(c))
        problems.push(`unknown capability ${JSON.stringify(c)} (known: ${CAPABILITIES.join(", ")})`);
    if (new Set(def.capabilities).size !== def.capabilities.length) problems.push("capabilities repeat");
  }
  if (def.capabilitiesFor !== undefined && typeof def.capabilitiesFor !== "function")
    problems.push("capabilitiesFor is not a function");
  if (def.settingsSchema?.type !== "object") problems.push("settingsSchema is not an object schema");
  const clashes = Object.keys(def.settingsSchema?.properties ?? {}).filter((k) =>
    CORE_SINK_FIELDS.includes(k),
  );
  if (clashes.length > 0)
    problems.push(`settingsSchema declares core sink fields: ${clashes.join(", ")} (rename them)`);
  if (typeof def.create !== "function") problems.push("create is not a function");
  if (def.check !== undefined && typeof def.check !== "function") problems.push("check is not a function");
  return problems;
}

/** The capabilities of an instance with `settings`: `capabilitiesFor(settings)`, or all of `capabilities`. */
export function instanceCapabilities(
  def: SinkDefinition<TObject>,
  settings: unknown,
): readonly SinkCapability[] {
  const all = Array.isArray(def.capabilities) ? def.capabilities : [];
  if (typeof def.capabilitiesFor !== "function") return all;
  const got = def.capabilitiesFor(settings as never);
  return Array.isArray(got) ? got : [];
}

/** Problems with what `capabilitiesFor(settings)` answers: an array, no repeats, each one listed in `capabilities`. */
export function instanceCapabilityProblems(def: SinkDefinition<TObject>, settings: unknown): string[] {
  if (typeof def.capabilitiesFor !== "function") return [];
  const got: unknown = def.capabilitiesFor(settings as never);
  if (!Array.isArray(got)) return ["capabilitiesFor() did not return an array"];
  const listed: readonly unknown[] = Array.isArray(def.capabilities) ? def.capabilities : [];
  const problems = got
    .filter((c) => !listed.includes(c))
    .map((c) => `capabilitiesFor() gives ${JSON.stringify(c)}, which capabilities does not list`);
  if (new Set(got).size !== got.length) problems.push("capabilitiesFor() repeats capabilities");
  return problems;
}

/** Problems matching a sink object to its capabilities: start/stop/publish, and `batching` exactly with `batch`. */
export function sinkShapeProblems(capabilities: readonly SinkCapability[], sink: Sink): string[] {
  const problems: string[] = [];
  for (const m of ["start", "stop", "publish"] as const)
    if (typeof sink?.[m] !== "function") problems.push(`${m}() is missing`);
  const declared = capabilities.includes("batch");
  const batching = sink?.batching;
  if (declared && !batching) problems.push("capability batch is declared but the sink has no batching");
  if (!declared && batching) problems.push("the sink has batching but capability batch is not declared");
  if (batching) problems.push(...policyProblems(batching.policy));
  if (batching && typeof batching.publish !== "function") problems.push("batching.publish() is missing");
  if (batching?.released !== undefined && typeof batching.released !== "function")
    problems.push("batching.released is not a function");
  return problems;
}

function policyProblems(policy: SinkBatchPolicy | undefined): string[] {
  if (typeof policy !== "object" || policy === null) return ["batching.policy is missing"];
  const problems: string[] = [];
  if (policy.by !== "device" && policy.by !== "gateway")
    problems.push(`batching.policy.by ${JSON.stringify(policy.by)} is not device or gateway`);
  const positive = (name: "maxReadings" | "maxBytes", min: number) => {
    const v = policy[name];
    if (!Number.isInteger(v) || v < min) problems.push(`batching.policy.${name} must be an integer ≥ ${min}`);
  };
  positive("maxReadings", 1);
  positive("maxBytes", 64);
  if (!Number.isInteger(policy.lingerMs) || policy.lingerMs < 0)
    problems.push("batching.policy.lingerMs must be an integer ≥ 0");
  if (policy.encoding !== undefined && policy.encoding !== "readings" && policy.encoding !== "compact")
    problems.push(`batching.policy.encoding ${JSON.stringify(policy.encoding)} is not readings or compact`);
  return problems;
}

/** One reading as the peer saw it, as the fixture reports it. */
export interface ReceivedReading {
  /**
   * The reading decoded from what the peer received. The kit compares `device`, `point`, `seq`,
   * `value` and `quality` with what it published, so the harness must recover at least those.
   */
  reading: Pick<Reading, "device" | "point" | "seq" | "value" | "quality"> & Partial<Reading>;
  /** Whether the peer saw it marked as historical (replayed from the buffer). */
  historical: boolean;
}

const BASE_TS = Date.UTC(2025, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * `n` valid readings with seq numbers from `firstSeq`, spread over `devices` devices named
 * `<prefix>-d<k>`, of every kind of value a sink must carry: numbers, booleans, strings, a bad
 * reading without a value, a big int64 as a decimal string, an array. Each reading's `ts` is
 * 2025-01-01T00:00:00.000Z plus its seq in ms (see {@link kitSeqOf}).
 */
export function kitReadings(prefix: string, firstSeq: number, n: number, devices = 2): Reading[] {
  const out: Reading[] = [];
  for (let i = 0; i < n; i++) {
    const seq = firstSeq + i;
    const ts = iso(BASE_TS + seq);
    const base = {
      gateway: "test-gateway",
      device: `${prefix}-d${i % devices}`,
      point: `p${i % 5}`,
      ts,
      receivedAt: ts,
      protocol: "simulator",
      seq,
    };
    switch (i % 6) {
      case 0:
        out.push({ ...base, value: 20 + i / 4, type: "float64", quality: "good", unit: "°C" });
        break;
      case 1:
        out.push({ ...base, value: i % 4 === 1, type: "bool", quality: "good" });
        break;
      case 2:
        out.push({ ...base, value: `text ${i} "quoted"`, type: "string", quality: "good" });
        break;
      case 3:
        out.push({ ...base, value: null, type: "float64", quality: "bad", status: "Disconnected" });
        break;
      case 4:
        out.push({ ...base, value: "9223372036854775807", type: "int64", quality: "good" });
        break;
      default:
        out.push({
          ...base,
          value: [i, i + 1, i + 2],
          type: "int32[]",
          quality: "uncertain",
          status: "Stale",
        });
    }
  }
  return out;
}

/**
 * The seq of a reading the kit published, from its source timestamp (ISO text or epoch ms), for a
 * harness whose peer carries a reading's timestamp but not the gateway's seq (a Sparkplug metric
 * has a timestamp; Sparkplug's own seq numbers the messages of a session).
 */
export function kitSeqOf(ts: string | number): number {
  return (typeof ts === "number" ? ts : Date.parse(ts)) - BASE_TS;
}

/** Encodes readings into batches by a sink's policy with the core's own batch encoding. */
export function encodeBatches(readings: readonly Reading[], policy: SinkBatchPolicy): SinkBatch[] {
  const batcher = new Batcher(policy);
  batcher.add(readings, 0);
  return batcher.take(0, true).map((b) => ({ key: b.key, count: b.count, payload: b.payload }));
}

/**
 * The readings in a batch payload as the core encodes it (a JSON array of Readings, or a compact
 * Reading batch v1), for a harness to decode what its peer received.
 */
export function decodeBatchPayload(payload: Buffer | string): Reading[] {
  const bytes = typeof payload === "string" ? Buffer.from(payload) : payload;
  return readingsOf([{ key: "", count: 0, payload: bytes }]);
}

const keyOf = (r: { device: string; point: string; seq: number }) =>
  `${r.device}\u0000${r.point}\u0000${r.seq}`;

/** The order the kit checks first arrivals in (see `SinkConformanceFixture.ordering`). */
export type KitOrdering = "device" | "point";

/**
 * Problems with what the peer received of `published`: every reading arrived, with its value and
 * quality, marked historical exactly when `historical` (when `checkMarks`), and the first arrival
 * of each in seq order within each device (`ordering: point`: within each point). Repeats are
 * allowed (delivery is at-least-once).
 */
export function deliveryProblems(
  published: readonly Reading[],
  received: readonly ReceivedReading[],
  expect: { historical: boolean; checkMarks: boolean; ordering?: KitOrdering },
): string[] {
  const wanted = new Map(published.map((r) => [keyOf(r), r]));
  const first = new Map<string, ReceivedReading>();
  for (const got of received) {
    const k = keyOf(got.reading);
    if (wanted.has(k) && !first.has(k)) first.set(k, got);
  }
  const problems: string[] = [];
  const missing = published.filter((r) => !first.has(keyOf(r)));
  if (missing.length > 0)
    problems.push(
      `${missing.length} of ${published.length} reading(s) never arrived (first: ${describe(missing[0]!)})`,
    );
  for (const [k, got] of first) {
    const sent = wanted.get(k)!;
    if (!isDeepStrictEqual(got.reading.value, sent.value) || got.reading.quality !== sent.quality)
      problems.push(
        `${describe(sent)} arrived as ${JSON.stringify(got.reading.value)}/${got.reading.quality}, sent as ${JSON.stringify(sent.value)}/${sent.quality}`,
      );
    if (expect.checkMarks && got.historical !== expect.historical)
      problems.push(
        `${describe(sent)} arrived ${got.historical ? "marked historical" : "not marked historical"}; it was published with historical: ${expect.historical}`,
      );
  }
  const byPoint = expect.ordering === "point";
  const lastSeq = new Map<string, number>();
  for (const got of first.values()) {
    const { device, point, seq } = got.reading;
    const within = byPoint ? `point ${device}/${point}` : `device ${device}`;
    const prev = lastSeq.get(within);
    if (prev !== undefined && seq < prev) problems.push(`${within}: seq ${seq} arrived after seq ${prev}`);
    lastSeq.set(within, seq);
  }
  return capped(problems, 10);
}

/** How many of `published` have not arrived (at least once). */
export function missingCount(published: readonly Reading[], received: readonly ReceivedReading[]): number {
  const seen = new Set(received.map((got) => keyOf(got.reading)));
  return published.filter((r) => !seen.has(keyOf(r))).length;
}

/** Received entries that belong to `published` (any repeat counts). */
export function countReceived(published: readonly Reading[], received: readonly ReceivedReading[]): number {
  const wanted = new Set(published.map(keyOf));
  return received.filter((got) => wanted.has(keyOf(got.reading))).length;
}

function describe(r: Pick<Reading, "device" | "point" | "seq">): string {
  return `${r.device}/${r.point} seq ${r.seq}`;
}

/** At most `n` lines, then how many more there were. */
export function capped(lines: readonly string[], n: number): string[] {
  return lines.length <= n ? [...lines] : [...lines.slice(0, n), `… and ${lines.length - n} more`];
}
