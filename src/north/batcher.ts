/**
 * Batching by size and time for sinks that send JSON arrays of Readings (the MQTT UNS sink).
 *
 * Readings are grouped by device or into one group for the whole gateway. A group becomes a batch
 * (one message) when it reaches `maxReadings` or would pass `maxBytes` of JSON, or when its oldest
 * reading has waited `lingerMs`. Within a group the readings keep their arrival (bus) order, and a
 * group's batches are handed out oldest first, so the order per point is kept.
 *
 * Each Reading is written once, when it is added, as UTF-8 JSON into its group's buffer, which
 * becomes the message (no string per Reading, no copy at the end). A single Reading larger than
 * `maxBytes` is a batch on its own (it cannot be split). A batch keeps only its bytes, not the
 * Reading objects: those die young, which spares the garbage collector copying them while they
 * linger. Where the Readings are needed again (a failed publish going to the store-and-forward
 * buffer), {@link readingsOf} decodes them from the payload.
 *
 * A batch's memory can be reused: once the transport has sent a batch and holds no reference to
 * its payload any more, `recycle()` gives the buffer back, and a group opening later writes into
 * it. At high rates this spares allocating a new buffer per batch, which costs more than the
 * allocation itself: V8 counts the memory of every Buffer and starts a full garbage collection
 * each time some tens of MB of them were allocated.
 *
 * Two encodings of a batch: `readings`, a JSON array of Readings; `compact`, one compact Reading
 * batch v1 (src/schema/reading-batch.ts: shared fields once, each Reading a row), where a batch
 * also holds Readings of one `gateway` only.
 */
import type { Reading } from "../schema/reading.js";
import {
  COMPACT_BATCH_TAIL,
  compactBase,
  compactBatchHead,
  compactRowWriter,
  decodeCompactBatch,
} from "../schema/reading-batch.js";
import { ByteBuffer, type ReadingWriter, readingJsonWriter } from "../schema/reading-json.js";

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

/** One message: the JSON of readings of one group, in order. */
export interface Batch {
  /** The device id (by: device) or "" (by: gateway). */
  key: string;
  /** How many readings it holds. */
  count: number;
  /** The message: UTF-8 JSON, a JSON array of Readings or a compact Reading batch v1. */
  payload: Buffer;
  /** The buffer `payload` is the start of, when the Batcher may reuse it (see `recycle`). */
  memory?: Buffer;
}

/** The JSON text of a batch. */
export const batchJson = (b: Batch): string => b.payload.toString("utf8");

/** Readings held by batches. */
export function countOf(batches: readonly Batch[]): number {
  let n = 0;
  for (const b of batches) n += b.count;
  return n;
}

/**
 * The readings of batches, in order, decoded from their payloads (equal to what `JSON.stringify`
 * of the added Readings parses back to).
 */
export function readingsOf(batches: readonly Batch[]): Reading[] {
  const out: Reading[] = [];
  for (const b of batches) {
    const json: unknown = JSON.parse(batchJson(b));
    for (const r of Array.isArray(json) ? (json as Reading[]) : decodeCompactBatch(json)) out.push(r);
  }
  return out;
}

interface Group {
  key: string;
  /** Readings written so far. */
  count: number;
  /** The gateway of its first reading (a compact batch holds one gateway's readings). */
  gateway: string;
  /** The JSON so far: the head (`[` or a compact batch's head), then the readings, comma-separated. */
  body: ByteBuffer;
  /** When its first reading was added. */
  since: number;
  /** Base time of a compact batch (ms; NaN: ISO timestamps). */
  t0: number;
}

const COMMA = 0x2c;
/** Most buffers kept for reuse, unless more groups have been open at once (then as many). */
const MAX_SPARE = 64;
/** Most bytes kept in spare buffers, whatever the count. */
const MAX_SPARE_BYTES = 32 * 1024 * 1024;
const ARRAY_TAIL = Buffer.from("]");
const COMPACT_TAIL = Buffer.from(COMPACT_BATCH_TAIL);

/** Accumulates readings into batches by a {@link BatchPolicy}. */
export class Batcher {
  /** Open groups by key, in order of creation, which is the order they become due. */
  private readonly groups = new Map<string, Group>();
  /** Batches closed by size, oldest first. */
  private full: Batch[] = [];
  private count = 0;
  private readonly compact: boolean;
  private readonly tail: Buffer;
  /** Writes a Reading as an element of a JSON array, or as a compact row. */
  private readonly writer: ReadingWriter;
  /** Size of each group's last batch, so that its next buffer usually needs no growing. */
  private readonly lastBytes = new Map<string, number>();
  /** Buffers of sent batches, for new groups to write into. */
  private readonly spare: Buffer[] = [];
  private spareBytes = 0;
  /** The buffer size of a full batch (maxBytes and room for the last Reading's overshoot check). */
  private readonly fullBytes: number;
  /** Most groups open at once so far. */
  private peak = 0;

  constructor(private readonly policy: BatchPolicy) {
    this.compact = policy.encoding === "compact";
    this.tail = this.compact ? COMPACT_TAIL : ARRAY_TAIL;
    this.writer = this.compact ? compactRowWriter() : readingJsonWriter();
    this.fullBytes = policy.maxBytes + 64;
  }

  /** A new group: its head written, no readings yet. */
  private open(key: string, r: Reading, now: number): Group {
    const last = this.lastBytes.get(key) ?? 1024;
    // A power of two above the last size, so that batches of about one size share their buffers;
    // the largest size is that of a full batch.
    const size = 2 ** Math.ceil(Math.log2(last + (last >> 3)));
    const want = size * 2 > this.fullBytes ? this.fullBytes : size;
    // A spare too small is dropped: the sizes of a sink's batches change slowly.
    const spare = this.spare.pop();
    if (spare) this.spareBytes -= spare.length;
    const body = new ByteBuffer(spare && spare.length >= want ? spare : want);
    if (!this.compact) {
      body.byte(0x5b); // [
      return { key, count: 0, gateway: r.gateway, body, since: now, t0: Number.NaN };
    }
    body.text(compactBatchHead(r.gateway, r.ts));
    return { key, count: 0, gateway: r.gateway, body, since: now, t0: compactBase(r.ts) };
  }

  /** Writes `r` into the group's body, after a comma unless it is the first. */
  private write(g: Group, r: Reading): void {
    this.writer.write(r, g.body, g.t0, g.count > 0 ? COMMA : -1);
  }

  /** Readings held (in open groups and closed batches). */
  get size(): number {
    return this.count;
  }

  /** Adds readings at time `now`; a group reaching a size limit becomes a closed batch. */
  add(readings: readonly Reading[], now: number): void {
    const { maxReadings, maxBytes } = this.policy;
    const byDevice = this.policy.by === "device";
    const tail = this.tail.length;
    // The group of the last reading: readings come device by device, so usually the one needed.
    let g: Group | undefined;
    for (const r of readings) {
      const key = byDevice ? r.device : "";
      if (g === undefined || g.key !== key) g = this.groups.get(key);
      if (g && this.compact && g.gateway !== r.gateway) {
        this.close(g);
        g = undefined;
      }
      if (!g) {
        g = this.open(key, r, now);
        this.groups.set(key, g);
        if (this.groups.size > this.peak) this.peak = this.groups.size;
      }
      const mark = g.body.length;
      this.write(g, r);
      if (g.count > 0 && g.body.length + tail > maxBytes) {
        // Does not fit: the group closes without it, and a new one starts with it. A JSON array
        // element moves as it is; a compact row is written again against the new batch's t0.
        const element = this.compact ? undefined : g.body.buf.subarray(mark + 1, g.body.length);
        const next = this.open(key, r, now);
        if (element) next.body.bytes(element);
        else this.write(next, r);
        g.body.length = mark;
        this.close(g);
        g = next;
        this.groups.set(key, g);
      }
      g.count++;
      if (g.count >= maxReadings || g.body.length + tail >= maxBytes) {
        this.close(g);
        g = undefined;
      }
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
      out.push(this.toBatch(g));
    }
    this.count -= countOf(out);
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
    this.full.push(this.toBatch(g));
  }

  /** The group as a message: its body and the tail. */
  private toBatch(g: Group): Batch {
    g.body.bytes(this.tail);
    const { buf, length } = g.body;
    if (this.lastBytes.size >= 10_000 && !this.lastBytes.has(g.key)) this.lastBytes.clear();
    this.lastBytes.set(g.key, length);
    // A buffer much larger than its batch (a partial batch lingered out) is copied, so that a
    // batch does not hold idle memory; the buffer is free for the next group at once.
    if (length * 4 < buf.length) {
      this.keep(buf);
      return { key: g.key, count: g.count, payload: Buffer.from(buf.subarray(0, length)) };
    }
    return { key: g.key, count: g.count, payload: buf.subarray(0, length), memory: buf };
  }

  /**
   * Takes back the memory of batches handed out by `take`, for new groups to write into. Call it
   * only when nothing refers to their payloads any more (sent, and released by the transport).
   */
  recycle(batches: readonly Batch[]): void {
    for (const b of batches) {
      if (b.memory) this.keep(b.memory);
      b.memory = undefined;
    }
  }

  private keep(buf: Buffer): void {
    // As many as groups were open at once: groups of devices polled together fill up, close and
    // reopen together, so each needs a buffer while the last ones are still being sent.
    const most = Math.max(MAX_SPARE, this.peak);
    if (
      this.spare.length < most &&
      buf.length <= this.fullBytes &&
      this.spareBytes + buf.length <= MAX_SPARE_BYTES
    ) {
      this.spare.push(buf);
      this.spareBytes += buf.length;
    }
  }
}

/** Splits readings at once into batches by the policy's grouping and size limits (no lingering). */
export function splitBatches(readings: readonly Reading[], policy: BatchPolicy): Batch[] {
  const b = new Batcher(policy);
  b.add(readings, 0);
  return b.take(0, true);
}
