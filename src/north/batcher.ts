/**
 * Batching by size and time for sinks that send JSON arrays of Readings (the MQTT UNS sink).
 *
 * Readings are grouped by device or into one group for the whole gateway. A group becomes a batch
 * (one message) when it reaches `maxReadings` or would pass `maxBytes` of JSON, or when its oldest
 * reading has waited `lingerMs`. Within a group the readings keep their arrival (bus) order, and a
 * group's batches are handed out oldest first, so the order per point is kept.
 *
 * Each Reading is serialized once, when it is added; a batch carries the JSON of its readings and
 * the exact UTF-8 size of the array they make. A single Reading larger than `maxBytes` is a batch
 * on its own (it cannot be split).
 */
import type { Reading } from "../schema/reading.js";

/** How readings are grouped into batches. */
export const BATCH_GROUPINGS = ["device", "gateway"] as const;
export type BatchGrouping = (typeof BATCH_GROUPINGS)[number];

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
}

/** One message: readings of one group, in order, with their JSON. */
export interface Batch {
  /** The device id (by: device) or "" (by: gateway). */
  key: string;
  readings: Reading[];
  /** `JSON.stringify` of each reading. */
  parts: string[];
  /** UTF-8 bytes of `[parts joined by ","]`. */
  bytes: number;
}

/** The JSON array a batch is sent as. */
export const batchJson = (b: Batch): string => `[${b.parts.join(",")}]`;

/**
 * The JSON array as a Buffer of exactly `bytes`, written part by part: no joined string in between
 * (a socket would encode that to UTF-8 again), so one copy of each reading's JSON.
 */
export function batchPayload(b: Batch): Buffer {
  const buf = Buffer.allocUnsafe(b.bytes);
  buf[0] = 0x5b; // [
  let at = 1;
  for (let i = 0; i < b.parts.length; i++) {
    if (i > 0) buf[at++] = 0x2c; // ,
    at += buf.write(b.parts[i]!, at, "utf8");
  }
  buf[at] = 0x5d; // ]
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
}

/** Accumulates readings into batches by a {@link BatchPolicy}. */
export class Batcher {
  /** Open groups by key, in order of creation, which is the order they become due. */
  private readonly groups = new Map<string, Group>();
  /** Batches closed by size, oldest first. */
  private full: Batch[] = [];
  private count = 0;

  constructor(private readonly policy: BatchPolicy) {}

  /** Readings held (in open groups and closed batches). */
  get size(): number {
    return this.count;
  }

  /** Adds readings at time `now`; a group reaching a size limit becomes a closed batch. */
  add(readings: readonly Reading[], now: number): void {
    const { maxReadings, maxBytes } = this.policy;
    const byDevice = this.policy.by === "device";
    for (const r of readings) {
      const part = JSON.stringify(r);
      const size = Buffer.byteLength(part);
      const key = byDevice ? r.device : "";
      let g = this.groups.get(key);
      if (g && g.bytes + 1 + size > maxBytes) {
        this.close(g);
        g = undefined;
      }
      if (!g) {
        g = { key, readings: [r], parts: [part], bytes: 2 + size, since: now };
        this.groups.set(key, g);
      } else {
        g.readings.push(r);
        g.parts.push(part);
        g.bytes += 1 + size;
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

const toBatch = (g: Group): Batch => ({ key: g.key, readings: g.readings, parts: g.parts, bytes: g.bytes });

/** Splits readings at once into batches by the policy's grouping and size limits (no lingering). */
export function splitBatches(readings: readonly Reading[], policy: BatchPolicy): Batch[] {
  const b = new Batcher(policy);
  b.add(readings, 0);
  return b.take(0, true);
}
