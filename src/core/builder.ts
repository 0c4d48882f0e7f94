/**
 * Turns adapter samples into Readings for one device: value normalization against the point's
 * type, scale/offset, deadband, report-by-exception and heartbeat. Applied once here, for every
 * adapter, so adapters only deliver raw samples.
 */
import type { PointType, Reading, ReadingValue } from "../schema/reading.js";
import { isNumericType, normalizeValue } from "../schema/values.js";
import type { Sample } from "../sdk/adapter.js";
import type { PointConfig } from "../sdk/point.js";
import type { Sequence } from "./sequence.js";

/** Per-point state between samples. */
interface PointState {
  readonly config: PointConfig<Record<string, unknown>>;
  /** Reading type: float64 when the point is scaled, else its configured type. */
  readonly type: PointType;
  readonly scaled: boolean;
  /**
   * For float32/float64 and the 16/32-bit integer types, the range a raw number passes
   * normalization unchanged in (what `normalizeValue` accepts), so the hot path skips it.
   */
  readonly fast: { readonly int: boolean; readonly min: number; readonly max: number } | undefined;
  readonly address: string | undefined;
  /** The point's last published reading, from whichever source address: what the cache shows. */
  last: Reading | undefined;
  /** Time (ms) the last reading was published. */
  lastPublishedMs: number;
  /** Time (ms) the last sample of the point arrived, published or suppressed. */
  lastSampleMs: number;
  /**
   * Last reading per source address, kept once a point has delivered from a second address: a
   * wildcard point (one point, many topics) reports by exception per address, not across them.
   */
  byAddress?: Map<string | undefined, { last: Reading; at: number }>;
}

/** Outcome counters of one `build` call. */
export interface BuildStats {
  bad: number;
  /** Status of each non-good sample (`Unknown` without one), in order; empty when all were good. */
  badStatuses: string[];
}

/** Builds Readings for one device. */
export class ReadingBuilder {
  private readonly points = new Map<string, PointState>();

  constructor(
    private readonly gateway: string,
    private readonly device: string,
    private readonly protocol: string,
    points: readonly PointConfig<Record<string, unknown>>[],
    private readonly sequence: Sequence,
  ) {
    for (const p of points) {
      const scaled = isNumericType(p.type) && (p.scale !== undefined || p.offset !== undefined);
      const address = typeof p.address === "string" ? p.address : undefined;
      this.points.set(p.id, {
        config: p,
        type: scaled ? "float64" : p.type,
        scaled,
        fast: FAST_RANGES[p.type],
        address,
        last: undefined,
        lastPublishedMs: 0,
        lastSampleMs: 0,
      });
    }
  }

  /**
   * Appends to `out` the Readings the samples produce (suppressed ones produce none) and returns
   * how many samples were not good. Samples for unknown points are ignored and counted as bad.
   */
  build(samples: readonly Sample[], nowMs: number, out: Reading[]): BuildStats {
    const receivedAt = new Date(nowMs).toISOString();
    const badStatuses: string[] = [];
    for (const s of samples) {
      const state = this.points.get(s.point);
      if (!state) {
        badStatuses.push("UnknownPoint");
        continue;
      }
      state.lastSampleMs = nowMs;
      const r = this.toReading(state, s, receivedAt);
      if (r.quality !== "good") badStatuses.push(r.status ?? "Unknown");
      if (!this.shouldPublish(state, r, nowMs)) continue;
      this.remember(state, r, nowMs);
      out.push(r);
    }
    return { bad: badStatuses.length, badStatuses };
  }

  /**
   * Readings marking every point `quality` with `status` and no value, each published once per
   * state change. Per-address memory is cleared, so every source address of a wildcard point
   * publishes afresh afterwards.
   */
  markAll(quality: "bad" | "uncertain", status: string, nowMs: number, out: Reading[]): void {
    const at = new Date(nowMs).toISOString();
    for (const state of this.points.values()) {
      state.byAddress = undefined;
      if (state.last?.quality === quality && state.last.status === status) continue;
      this.markValueless(state, quality, status, at, nowMs, out);
    }
  }

  /**
   * Marks each point among `ids` whose last reading has one of the statuses in `from` (e.g. a
   * pushed point still `Disconnected` once its device is back) as `quality`/`status`, no value.
   */
  remark(
    ids: Iterable<string>,
    from: ReadonlySet<string>,
    quality: "bad" | "uncertain",
    status: string,
    nowMs: number,
    out: Reading[],
  ): void {
    const at = new Date(nowMs).toISOString();
    for (const id of ids) {
      const state = this.points.get(id);
      const was = state?.last?.status;
      if (state && was !== undefined && from.has(was))
        this.markValueless(state, quality, status, at, nowMs, out);
    }
  }

  /** Publishes `state` as `quality`/`status` with no value, at its last source address. */
  private markValueless(
    state: PointState,
    quality: "bad" | "uncertain",
    status: string,
    at: string,
    nowMs: number,
    out: Reading[],
  ): void {
    const r = this.reading(state, null, quality, status, at, at, state.last?.address);
    this.remember(state, r, nowMs);
    out.push(r);
  }

  /**
   * Republishes the last value of each good point among `ids` as uncertain/Stale, keeping its
   * value and source timestamp. With `isStale`, only the points it says are, given when their last
   * sample arrived.
   */
  markStale(
    ids: Iterable<string>,
    nowMs: number,
    out: Reading[],
    isStale?: (point: PointConfig<Record<string, unknown>>, lastSampleMs: number) => boolean,
  ): void {
    let receivedAt: string | undefined;
    for (const id of ids) {
      const state = this.points.get(id);
      const last = state?.last;
      if (!state || last?.quality !== "good") continue;
      if (isStale && !isStale(state.config, state.lastSampleMs)) continue;
      receivedAt ??= new Date(nowMs).toISOString();
      state.byAddress = undefined;
      const r: Reading = { ...last, quality: "uncertain", status: "Stale", receivedAt };
      this.remember(state, r, nowMs);
      out.push(r);
    }
  }

  /**
   * Re-publishes, unchanged but with a new `seq`, the last reading of every point whose heartbeat
   * is due and that is in `ids` (points no poll will refresh, i.e. pushed ones).
   */
  heartbeats(ids: ReadonlySet<string>, nowMs: number, out: Reading[]): void {
    for (const id of ids) {
      const state = this.points.get(id);
      const hb = state?.config.heartbeatMs;
      if (!state?.last || hb === undefined || nowMs - state.lastPublishedMs < hb) continue;
      const r: Reading = { ...state.last };
      this.remember(state, r, nowMs);
      out.push(r);
    }
  }

  /**
   * How many points' last readings are not good, and their statuses (at most `maxStatuses`
   * distinct ones): tells connected from degraded, and why.
   */
  notGood(maxStatuses = 3): { count: number; total: number; statuses: string[] } {
    let count = 0;
    const statuses = new Set<string>();
    for (const s of this.points.values()) {
      if (!s.last || s.last.quality === "good") continue;
      count++;
      if (statuses.size < maxStatuses) statuses.add(s.last.status ?? s.last.quality);
    }
    return { count, total: this.points.size, statuses: [...statuses] };
  }

  /** Stamps `r` with the next seq and records it as the point's last published reading. */
  private remember(state: PointState, r: Reading, nowMs: number): void {
    r.seq = this.sequence.next();
    const last = state.last;
    // A second address only counts once the first delivered a value (not a Disconnected marker).
    if (state.byAddress || (last?.quality === "good" && last.address !== r.address)) {
      state.byAddress ??= new Map(last ? [[last.address, { last, at: state.lastPublishedMs }]] : []);
      state.byAddress.set(r.address, { last: r, at: nowMs });
    }
    state.last = r;
    state.lastPublishedMs = nowMs;
  }

  private toReading(state: PointState, s: Sample, receivedAt: string): Reading {
    const ts = s.sourceTs === undefined ? receivedAt : (toIso(s.sourceTs) ?? receivedAt);
    const quality = s.quality ?? "good";
    const unit = s.unit;
    if (s.value === null)
      return this.reading(
        state,
        null,
        quality === "good" ? "bad" : quality,
        s.status ?? "NoValue",
        ts,
        receivedAt,
        s.address,
        unit,
      );
    let value: ReadingValue;
    const raw = s.value;
    const fast = state.fast;
    if (
      fast !== undefined &&
      typeof raw === "number" &&
      (fast.int ? Number.isInteger(raw) && raw >= fast.min && raw <= fast.max : Number.isFinite(raw))
    ) {
      value = raw; // exactly what normalizeValue returns, without its result object
    } else {
      const n = normalizeValue(state.config.type, raw);
      if (!n.ok) return this.reading(state, null, "bad", n.status, ts, receivedAt, s.address, unit);
      value = n.value;
    }
    if (state.scaled) value = scale(value, state.config);
    return this.reading(state, value, quality, s.status, ts, receivedAt, s.address, unit);
  }

  private reading(
    state: PointState,
    value: ReadingValue,
    quality: Reading["quality"],
    status: string | undefined,
    ts: string,
    receivedAt: string,
    address: string | undefined,
    unit?: string,
  ): Reading {
    const c = state.config;
    const u = c.unit ?? unit;
    const a = address ?? state.address;
    if (status === undefined && u === undefined && a !== undefined) {
      // The common shape, built whole: adding `address` afterwards would allocate a property
      // backing store per reading. Same keys in the same order as below.
      return {
        gateway: this.gateway,
        device: this.device,
        point: c.id,
        value,
        type: state.type,
        quality,
        ts,
        receivedAt,
        protocol: this.protocol,
        seq: 0,
        address: a,
      };
    }
    const r: Reading = {
      gateway: this.gateway,
      device: this.device,
      point: c.id,
      value,
      type: state.type,
      quality,
      ts,
      receivedAt,
      protocol: this.protocol,
      seq: 0,
    };
    if (status !== undefined) r.status = status;
    if (u !== undefined) r.unit = u;
    if (a !== undefined) r.address = a;
    return r;
  }

  /**
   * Report by exception against the last reading from the same source address; a change of
   * quality or status of the point as a whole always publishes, so recovering from a
   * point-wide state (Disconnected, Stale) never waits for the value to change.
   */
  private shouldPublish(state: PointState, r: Reading, nowMs: number): boolean {
    const c = state.config;
    const point = state.last;
    if (!point || c.publish === "always") return true;
    if (point.quality !== r.quality || point.status !== r.status) return true;
    const slot = state.byAddress
      ? state.byAddress.get(r.address)
      : point.address === r.address
        ? { last: point, at: state.lastPublishedMs }
        : undefined;
    if (!slot) return true;
    const last = slot.last;
    if (last.quality !== r.quality || last.status !== r.status) return true;
    if (c.heartbeatMs !== undefined && nowMs - slot.at >= c.heartbeatMs) return true;
    if (typeof r.value === "number" && typeof last.value === "number")
      return exceedsDeadband(last.value, r.value, c);
    return !sameValue(last.value, r.value);
  }
}

const FAST_RANGES: Partial<Record<PointType, { int: boolean; min: number; max: number }>> = {
  float32: { int: false, min: -Infinity, max: Infinity },
  float64: { int: false, min: -Infinity, max: Infinity },
  int16: { int: true, min: -32768, max: 32767 },
  uint16: { int: true, min: 0, max: 65535 },
  int32: { int: true, min: -2147483648, max: 2147483647 },
  uint32: { int: true, min: 0, max: 4294967295 },
};

function scale(value: ReadingValue, c: PointConfig<Record<string, unknown>>): ReadingValue {
  const n = typeof value === "string" ? Number(value) : value; // int64 beyond 2^53 arrives as a string
  return typeof n === "number" ? n * (c.scale ?? 1) + (c.offset ?? 0) : value;
}

function exceedsDeadband(last: number, next: number, c: PointConfig<Record<string, unknown>>): boolean {
  const delta = Math.abs(next - last);
  const db = c.deadband;
  if (!db) return delta !== 0;
  if (db.mode === "absolute") return delta > db.value;
  return last === 0 ? delta !== 0 : delta > (Math.abs(last) * db.value) / 100;
}

function sameValue(a: ReadingValue, b: ReadingValue): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The last source time formatted: a poll's samples mostly share one, and formatting is costly. */
let lastTsMs = Number.NaN;
let lastTsIso = "";

/** A sample's source time as ISO 8601, or undefined when it is not a valid time. */
export function toIso(ts: number | Date | string): string | undefined {
  if (ts === lastTsMs) return lastTsIso;
  const d = ts instanceof Date ? ts : new Date(ts);
  const ms = d.getTime();
  if (Number.isNaN(ms)) return undefined;
  if (ms !== lastTsMs) {
    lastTsIso = d.toISOString();
    lastTsMs = ms;
  }
  return lastTsIso;
}
