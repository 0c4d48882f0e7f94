/**
 * The simulator's client seam: a virtual device. It computes each point's value from its generator
 * at a given time, keeps per-point state (counters, walks, written values) and simulates outages.
 * Pure: no timers, no I/O; time always comes in as an argument, randomness from a seeded PRNG.
 */
import { type PointType, WriteRefused } from "../../src/sdk/index.js";
import type { Generator } from "./config.js";

/** A value the virtual device can hold. */
export type SimValue = number | boolean | string;

/** The outcome of reading one point: a value, or the status of a bad sample. */
export type SimResult = { ok: true; value: SimValue } | { ok: false; status: string };

/** What the device needs to know of a point. */
export interface SimPoint {
  readonly id: string;
  readonly type: PointType;
  readonly generator: Generator;
}

/** Construction options of a virtual device. */
export interface SimulatedDeviceOptions {
  seed: number;
  outage?: { everyMs: number; durationMs: number } | undefined;
}

/** Status of a point whose generator cannot produce values of its type. */
export const TYPE_MISMATCH = "TypeMismatch";

/** Thrown while the device is in a simulated outage: a connection-wide failure. */
export class OutageError extends Error {
  constructor() {
    super("simulated outage");
    this.name = "OutageError";
  }
}

/** mulberry32: a tiny, fast, seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a, so each point gets its own random stream, independent of the other points. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const INT_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};
const FLOAT32_MAX = 3.4028234663852886e38;

type Produced = "number" | "boolean" | "string" | "none";

/** The JS kind of value a generator produces for a point type. */
function produces(gen: Generator, type: PointType): Produced {
  switch (gen.kind) {
    case "square":
      return type === "bool" ? "boolean" : "number";
    case "constant":
      return typeof gen.value as Produced;
    case "fault":
      return "none";
    default:
      return "number";
  }
}

function isNumeric(type: PointType): boolean {
  return type in INT_RANGES || type === "float32" || type === "float64";
}

/** Whether a point type can carry what a generator produces. */
function accepts(type: PointType, produced: Produced): boolean {
  if (produced === "none") return true;
  if (isNumeric(type)) return produced === "number";
  if (type === "bool") return produced === "boolean";
  if (type === "string" || type === "datetime") return produced === "string";
  return type === "json";
}

const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v));

/** Fits a raw generator value to the point type: integers rounded and clamped, float32 rounded to single. */
function fitType(type: PointType, raw: SimValue): SimResult {
  if (typeof raw === "number") {
    const range = INT_RANGES[type];
    if (range) return { ok: true, value: clamp(Math.round(raw), range[0], range[1]) };
    if (type === "float32") return { ok: true, value: Math.fround(clamp(raw, -FLOAT32_MAX, FLOAT32_MAX)) };
  }
  if (type === "datetime" && Number.isNaN(Date.parse(String(raw))))
    return { ok: false, status: TYPE_MISMATCH };
  return { ok: true, value: raw };
}

const WIDE_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/**
 * Checks a written value against a point type; returns it or throws `WriteRefused` (nothing is
 * held). A 64-bit integer (the core hands those over as bigint) is held as a number while it is
 * exact, as a decimal string beyond ±2^53, the way a Reading carries it.
 */
function writable(point: SimPoint, value: unknown): SimValue {
  const { type } = point;
  const wide = WIDE_RANGES[type];
  if (wide && typeof value === "bigint") {
    if (value < wide[0] || value > wide[1])
      throw new WriteRefused("InvalidValue", `point ${point.id} is ${type}: cannot hold ${value}`);
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  const range = INT_RANGES[type];
  let ok: boolean;
  if (range) ok = Number.isInteger(value) && (value as number) >= range[0] && (value as number) <= range[1];
  else if (type === "float32") ok = Number.isFinite(value) && Math.abs(value as number) <= FLOAT32_MAX;
  else if (type === "float64") ok = Number.isFinite(value);
  else if (type === "bool") ok = typeof value === "boolean";
  else if (type === "string") ok = typeof value === "string";
  else if (type === "datetime") ok = typeof value === "string" && !Number.isNaN(Date.parse(value));
  else if (type === "json") ok = ["number", "boolean", "string"].includes(typeof value);
  else ok = false;
  if (!ok)
    throw new WriteRefused("InvalidValue", `point ${point.id} is ${type}: cannot write ${show(value)}`);
  return value as SimValue;
}

/** A value for a message: JSON where it can be, never throwing (a bigint, a cycle). */
function show(value: unknown): string {
  try {
    return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? `${v}n` : v)) ?? String(value);
  } catch {
    return String(value);
  }
}

interface PointState {
  readonly random: () => number;
  /** Counter: next value; random walk: current position. */
  level?: number;
  /** A written value that periodic and constant generators report instead of their own. */
  held?: SimValue;
}

/** A virtual device: values from generators at a given time, written values held, outages on a schedule. */
export class SimulatedDevice {
  readonly #seed: number;
  readonly #outage: SimulatedDeviceOptions["outage"];
  readonly #points = new Map<string, PointState>();

  constructor(options: SimulatedDeviceOptions) {
    this.#seed = options.seed;
    this.#outage = options.outage;
  }

  /** Whether the device is unreachable at `nowMs`: within `durationMs` of each multiple of `everyMs`. */
  inOutage(nowMs: number): boolean {
    const o = this.#outage;
    if (!o || o.durationMs <= 0) return false;
    return ((nowMs % o.everyMs) + o.everyMs) % o.everyMs < o.durationMs;
  }

  /** "Connects": throws during an outage. */
  connect(nowMs: number): void {
    this.#reachable(nowMs);
  }

  /** Reads points at `nowMs`; throws during an outage. Counters and walks advance one step per read. */
  read(points: readonly SimPoint[], nowMs: number): SimResult[] {
    this.#reachable(nowMs);
    return points.map((p) => this.#sample(p, nowMs));
  }

  /** Writes a value the point reports from its next read on; throws on a type mismatch or during an outage. */
  write(point: SimPoint, value: unknown, nowMs: number): void {
    this.#reachable(nowMs);
    const gen = point.generator;
    if (gen.kind === "fault")
      throw new Error(`point ${point.id} simulates a failing sensor; writes are refused`);
    if (!accepts(point.type, produces(gen, point.type))) {
      throw new Error(
        `point ${point.id}: a ${gen.kind} generator cannot produce ${point.type} values (${TYPE_MISMATCH})`,
      );
    }
    const v = writable(point, value);
    const state = this.#state(point.id);
    if (gen.kind !== "counter" && gen.kind !== "randomWalk") state.held = v;
    else if (typeof v === "number") state.level = v;
    else
      throw new WriteRefused(
        "InvalidValue",
        `point ${point.id}: a ${gen.kind} continues from a number, not ${show(v)}`,
      );
  }

  #reachable(nowMs: number): void {
    if (this.inOutage(nowMs)) throw new OutageError();
  }

  #state(id: string): PointState {
    let s = this.#points.get(id);
    if (!s) {
      s = { random: mulberry32(this.#seed ^ hash(id)) };
      this.#points.set(id, s);
    }
    return s;
  }

  #sample(point: SimPoint, t: number): SimResult {
    const gen = point.generator;
    if (gen.kind === "fault") return { ok: false, status: gen.status ?? "SensorFault" };
    if (!accepts(point.type, produces(gen, point.type))) return { ok: false, status: TYPE_MISMATCH };
    const state = this.#state(point.id);
    const raw = state.held ?? generate(gen, point.type, t, state);
    return fitType(point.type, raw);
  }
}

/** Position within the current period, in [0, 1). */
const phase = (t: number, periodMs: number) => (((t % periodMs) + periodMs) % periodMs) / periodMs;

/** Computes a generator's raw value at time `t`, advancing stateful generators one step. */
function generate(
  gen: Exclude<Generator, { kind: "fault" }>,
  type: PointType,
  t: number,
  s: PointState,
): SimValue {
  switch (gen.kind) {
    case "sine": {
      const noise = gen.noise ? gen.noise * (2 * s.random() - 1) : 0;
      return (
        (gen.offset ?? 0) +
        (gen.amplitude ?? 1) * Math.sin(2 * Math.PI * phase(t, gen.periodMs ?? 60_000)) +
        noise
      );
    }
    case "ramp": {
      const min = gen.min ?? 0;
      return min + ((gen.max ?? 100) - min) * phase(t, gen.periodMs ?? 60_000);
    }
    case "square": {
      const high = phase(t, gen.periodMs ?? 2_000) >= 0.5;
      return type === "bool" ? high : high ? (gen.high ?? 1) : (gen.low ?? 0);
    }
    case "counter":
      return advanceCounter(gen, s);
    case "randomWalk":
      return advanceWalk(gen, s);
    case "constant":
      return gen.value;
  }
}

function advanceCounter(gen: Extract<Generator, { kind: "counter" }>, s: PointState): number {
  const start = gen.start ?? 0;
  const step = gen.step ?? 1;
  const current = s.level ?? start;
  const next = current + step;
  const wrapped = gen.wrap !== undefined && (step >= 0 ? next > gen.wrap : next < gen.wrap);
  s.level = wrapped ? start : next;
  return current;
}

function advanceWalk(gen: Extract<Generator, { kind: "randomWalk" }>, s: PointState): number {
  const min = gen.min ?? 0;
  const max = gen.max ?? 100;
  const current = s.level ?? clamp(gen.start ?? (min + max) / 2, min, max);
  s.level = clamp(current + (gen.step ?? 1) * (2 * s.random() - 1), min, max);
  return current;
}
