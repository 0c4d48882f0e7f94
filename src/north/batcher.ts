/**
 * Batching by size and time for sinks that send JSON arrays of Readings (the MQTT UNS sink).
 *
 * Readings are grouped by device or into one group for the whole gateway. A group becomes a batch
 * (one message) when it reaches `maxReadings` or would pass `maxBytes` of JSON, or when its oldest
 * reading has waited `lingerMs`. Within a group the readings keep their arrival (bus) order, and a
 * group's batches are handed out oldest first, so the order per point is kept.
 *
 * Each Reading is serialized once, when it is added; a batch carries the JSON of its readings and
 * the exact UTF-8 size of the message they make. A single Reading larger than `maxBytes` is a batch
 * on its own (it cannot be split).
 *
 * Two encodings of a batch: `readings`, a JSON array of Readings; `compact`, one compact Reading
 * batch v1 (src/schema/reading-batch.ts: shared fields once, each Reading a row), where a batch
 * also holds Readings of one `gateway` only.
 */
import type { Reading } from "../schema/reading.js";
import {
  COMPACT_BATCH_TAIL,
  type CompactRowEncoder,
  compactBase,
  compactBatchHead,
  compactRowEncoder,
} from "../schema/reading-batch.js";

/** How readings are grouped into batches. */
export const BATCH_GROUPINGS = ["device", "gateway"] as const;
export type BatchGrouping = (typeof BATCH_GROUPINGS)[number];

/** How a batch is written: a JSON array of Readings, or a compact Reading batch v1. */
export const BATCH_ENCODINGS = ["readings", "compact"] as const;
export type BatchEncoding = (typeof BATCH_ENCODINGS)[number];

/** When a batch is complete. */
export interface BatchPolicy {
  /** device: one batch holds readings of one device; gateway: of any devices. */
  by: BatchGrouping;
  /** Most readings in one batch. */
  maxReadings: number;
  /** Most bytes of a batch's JSON array (unless one Reading alone is larger). */
  maxBytes: number;
  /** Longest a reading waits for its batch to fill, in ms; 0: batches are whatever is there. */
  lingerMs: number;
  /** readings (absent): a JSON array of Readings; compact: a compact Reading batch v1. */
  encoding?: BatchEncoding;
}

/** One message: readings of one group, in order, with their JSON. */
export interface Batch {
  /** The device id (by: device) or "" (by: gateway). */
  key: string;
  readings: Reading[];
  /** The JSON of each reading: `JSON.stringify` of it, or its compact row. */
  parts: string[];
  /** The JSON before the parts: `[`, or a compact batch's head. */
  head: string;
  /** The JSON after them: `]` or `]}`. */
  tail: string;
  /** UTF-8 bytes of `head + parts joined by "," + tail`. */
  bytes: number;
}

/** The JSON a batch is sent as. */
export const batchJson = (b: Batch): string => `${b.head}${b.parts.join(",")}${b.tail}`;

/**
 * The JSON as a Buffer of exactly `bytes`, written part by part: no joined string in between
 * (a socket would encode that to UTF-8 again), so one copy of each reading's JSON.
 */
export function batchPayload(b: Batch): Buffer {
  const buf = Buffer.allocUnsafe(b.bytes);
  let at = buf.write(b.head, 0, "utf8");
  for (let i = 0; i < b.parts.length; i++) {
    if (i > 0) buf[at++] = 0x2c; // ,
    at += buf.write(b.parts[i]!, at, "utf8");
  }
  buf.write(b.tail, at, "utf8");
  return buf;
}

/** The readings of batches, in order. */
export function readingsOf(batches: readonly Batch[]): Reading[] {
  if (batches.length === 1) return batches[0]!.readings;
  const out: Reading[] = [];
  for (const b of batches) for (const r of b.readings) out.push(r);
  return out;
}

interface Group extends Batch {
  /** When its first reading was added. */
  since: number;
  /** Base time of a compact batch (ms; NaN: ISO timestamps). */
  t0: number;
}

const byteLength = (s: string): number => Buffer.byteLength(s, "utf8");

/** `JSON.stringify` of a Reading, as an encoder. */
function jsonEncoder(): CompactRowEncoder {
  const enc: CompactRowEncoder = {
    bytes: 0,
    row(r) {
      const part = JSON.stringify(r);
      enc.bytes = byteLength(part);
      return part;
    },
  };
  return enc;
}

/** Accumulates readings into batches by a {@link BatchPolicy}. */
export class Batcher {
  /** Open groups by key, in order of creation, which is the order they become due. */
  private readonly groups = new Map<string, Group>();
  /** Batches closed by size, oldest first. */
  private full: Batch[] = [];
  private count = 0;
  /** The JSON of a reading in a batch with base time t0, and its UTF-8 size. */
  private readonly encoder: CompactRowEncoder;
  private readonly compact: boolean;

  constructor(private readonly policy: BatchPolicy) {
    this.compact = policy.encoding === "compact";
    this.encoder = this.compact ? compactRowEncoder() : jsonEncoder();
  }

  /**
   * A new group starting with `r` and its JSON: `encoded` when it was already encoded for the
   * group it did not fit in (an array's JSON does not depend on its group; a compact row does).
   */
  private open(key: string, r: Reading, now: number, encoded?: { part: string; bytes: number }): Group {
    if (!this.compact) {
      const part = encoded?.part ?? this.encoder.row(r, 0);
      const bytes = 2 + (encoded?.bytes ?? this.encoder.bytes);
      return { key, readings: [r], parts: [part], head: "[", tail: "]", bytes, since: now, t0: 0 };
    }
    const t0 = compactBase(r.ts);
    const head = compactBatchHead(r.gateway, r.ts);
    const part = this.encoder.row(r, t0);
    const bytes = byteLength(head) + this.encoder.bytes + COMPACT_BATCH_TAIL.length;
    return { key, readings: [r], parts: [part], head, tail: COMPACT_BATCH_TAIL, bytes, since: now, t0 };
  }

  /** Readings held (in open groups and closed batches). */
  get size(): number {
    return this.count;
  }

  /** Adds readings at time `now`; a group reaching a size limit becomes a closed batch. */
  add(readings: readonly Reading[], now: number): void {
    const { maxReadings, maxBytes } = this.policy;
    const byDevice = this.policy.by === "device";
    const compact = this.compact;
    for (const r of readings) {
      const key = byDevice ? r.device : "";
      let g = this.groups.get(key);
      if (g && compact && g.readings[0]!.gateway !== r.gateway) {
        this.close(g);
        g = undefined;
      }
      let encoded: { part: string; bytes: number } | undefined;
      if (g) {
        const part = this.encoder.row(r, g.t0);
        const size = this.encoder.bytes;
        if (g.bytes + 1 + size > maxBytes) {
          this.close(g);
          g = undefined;
          if (!compact) encoded = { part, bytes: size };
        } else {
          g.readings.push(r);
          g.parts.push(part);
          g.bytes += 1 + size;
        }
      }
      if (!g) {
        g = this.open(key, r, now, encoded);
        this.groups.set(key, g);
      }
      if (g.readings.length >= maxReadings || g.bytes >= maxBytes) this.close(g);
    }
    this.count += readings.length;
  }

  /**
   * Takes the batches that are ready at `now`: every closed one, then the open groups whose
   * oldest reading has waited `lingerMs`; with `all`, every group.
   */
  take(now: number, all = false): Batch[] {
    const out = this.full;
    this.full = [];
    for (const g of this.groups.values()) {
      if (!all && g.since + this.policy.lingerMs > now) break; // later groups are younger
      this.groups.delete(g.key);
      out.push(toBatch(g));
    }
    for (const b of out) this.count -= b.readings.length;
    return out;
  }

  /** When the next batch is ready: now if one is full, else when the oldest group is due. */
  dueAt(now: number): number | undefined {
    if (this.full.length > 0) return now;
    for (const g of this.groups.values()) return g.since + this.policy.lingerMs;
    return undefined;
  }

  private close(g: Group): void {
    this.groups.delete(g.key);
    this.full.push(toBatch(g));
  }
}

const toBatch = (g: Group): Batch => ({
  key: g.key,
  readings: g.readings,
  parts: g.parts,
  head: g.head,
  tail: g.tail,
  bytes: g.bytes,
});

/** Splits readings at once into batches by the policy's grouping and size limits (no lingering). */
export function splitBatches(readings: readonly Reading[], policy: BatchPolicy): Batch[] {
  const b = new Batcher(policy);
  b.add(readings, 0);
  return b.take(0, true);
}
