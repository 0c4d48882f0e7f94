/**
 * The fast writers of Readings as JSON text, for the places that send many Readings (north sink
 * batches and messages): a Reading as a JSON object ({@link readingJsonWriter}) or as a row of a
 * compact Reading batch (reading-batch.ts). They write UTF-8 bytes straight into a reused buffer,
 * from cached bytes of what repeats: per point the head (up to the value) and the tail (after the
 * seq), and between value and seq the type, quality, protocol and the poll's timestamps, shared by
 * the points they are the same for. A Reading then costs formatting its value and seq and three
 * copies, with no string built per Reading.
 *
 * The JSON object is exactly `JSON.stringify(r)` for a Reading whose keys are in the order the core
 * builds them (gateway, device, point, value, type, quality, ts, receivedAt, protocol, seq, then
 * status, unit, address when present); a Reading with its keys in another order gets the same
 * fields in that order (the same JSON value). Keys outside the Reading schema are not written.
 */
import type { Reading } from "./reading.js";

/**
 * A growable buffer of UTF-8 bytes. Its memory is its own (never a slice of Node's shared pool),
 * so that an owner may hand it to a new ByteBuffer for reuse.
 */
export class ByteBuffer {
  buf: Buffer;
  length = 0;

  /** A new buffer of `initial` bytes, or `initial` itself (a buffer to reuse), written from its start. */
  constructor(initial: number | Buffer = 4096) {
    this.buf = typeof initial === "number" ? Buffer.allocUnsafeSlow(initial) : initial;
  }

  /** Makes room for `n` more bytes. */
  room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  /** Appends bytes. */
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Appends any string as UTF-8. */
  text(s: string): void {
    this.room(s.length * 3);
    this.length += this.buf.write(s, this.length, "utf8");
  }

  /** Appends one byte. */
  byte(c: number): void {
    this.room(1);
    this.buf[this.length++] = c;
  }

  /** A copy of the bytes so far. */
  copy(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.length));
  }

  /** Empties it, keeping its memory. */
  clear(): void {
    this.length = 0;
  }
}

const utf8 = (s: string): Buffer => Buffer.from(s, "utf8");
const json = JSON.stringify;

/**
 * How a Reading is written: the texts around its value and seq, each made from the fields it
 * depends on. Every field of the Reading is in exactly one of them (or is the value or the seq).
 */
export interface ReadingFormat {
  /** Up to the value. */
  head(gateway: string, device: string, point: string): string;
  /** Between the value and the seq; `t0` is the base time of a compact batch (NaN otherwise). */
  middle(type: string, quality: string, protocol: string, ts: string, receivedAt: string, t0: number): string;
  /** After the seq, to the end of the Reading. */
  tail(
    protocol: string,
    status: string | undefined,
    unit: string | undefined,
    address: string | undefined,
  ): string;
}

/** A Reading as a JSON object, keys in the order the core builds them. */
export const JSON_READING: ReadingFormat = {
  head: (gateway, device, point) =>
    `{"gateway":${json(gateway)},"device":${json(device)},"point":${json(point)},"value":`,
  middle: (type, quality, protocol, ts, receivedAt) =>
    `,"type":${json(type)},"quality":${json(quality)},"ts":${json(ts)},"receivedAt":${json(receivedAt)},"protocol":${json(protocol)},"seq":`,
  tail: (_protocol, status, unit, address) =>
    `${status === undefined ? "" : `,"status":${json(status)}`}${unit === undefined ? "" : `,"unit":${json(unit)}`}${address === undefined ? "" : `,"address":${json(address)}`}}`,
};

/**
 * The middle bytes of the points of one type, quality and protocol, remade when the timestamps
 * (or a compact batch's base time) change: once per poll, not once per point.
 */
class Middle {
  private ts = "";
  private receivedAt = "";
  private t0 = Number.NaN;
  private bytes: Buffer | undefined;

  constructor(
    private readonly format: ReadingFormat,
    readonly type: string,
    readonly quality: string,
    readonly protocol: string,
  ) {}

  at(ts: string, receivedAt: string, t0: number): Buffer {
    if (
      this.bytes === undefined ||
      ts !== this.ts ||
      receivedAt !== this.receivedAt ||
      !Object.is(t0, this.t0)
    ) {
      this.ts = ts;
      this.receivedAt = receivedAt;
      this.t0 = t0;
      this.bytes = utf8(this.format.middle(this.type, this.quality, this.protocol, ts, receivedAt, t0));
    }
    return this.bytes;
  }
}

/** The cached bytes of one point's Readings (valid while the fields they were made from stay). */
interface PointBytes {
  middle: Middle;
  status: string | undefined;
  unit: string | undefined;
  address: string | undefined;
  head: Buffer;
  tail: Buffer;
}

/** Writes Readings in a {@link ReadingFormat} into a {@link ByteBuffer}; keep one per consumer (it holds caches). */
export class ReadingWriter {
  private gateway: string | undefined;
  private readonly points = new Map<string, Map<string, PointBytes>>();
  private readonly middles = new Map<string, Middle>();
  private device = "";
  private devicePoints: Map<string, PointBytes> | undefined;
  private size = 0;
  private readonly scratch = new ByteBuffer(1024);

  constructor(
    private readonly format: ReadingFormat,
    private readonly maxPoints = 50_000,
  ) {}

  /**
   * Appends `r` to `out`, after the byte `separator` unless it is -1; `t0` is the base time of a
   * compact batch.
   */
  write(r: Reading, out: ByteBuffer, t0 = Number.NaN, separator = -1): void {
    const p = this.pointBytes(r);
    const { head, tail } = p;
    const middle = p.middle.at(r.ts, r.receivedAt, t0);
    const seq = `${r.seq}`;
    const v = r.value;
    let value: string;
    let ascii = true; // numbers, booleans and null; a string, an array or an object may be any UTF-8
    if (typeof v === "number") value = Number.isFinite(v) ? `${v}` : "null";
    else if (typeof v === "boolean") value = v ? "true" : "false";
    else if (v === null || v === undefined) value = "null";
    else {
      value = json(v);
      ascii = false;
    }
    // One check for room (UTF-8 takes at most 3 bytes per UTF-16 unit), then plain stores.
    out.room(1 + head.length + value.length * (ascii ? 1 : 3) + middle.length + seq.length + tail.length);
    const buf = out.buf;
    let at = out.length;
    if (separator >= 0) buf[at++] = separator;
    buf.set(head, at);
    at += head.length;
    if (ascii) for (let i = 0; i < value.length; i++) buf[at++] = value.charCodeAt(i);
    else at += buf.write(value, at, "utf8");
    buf.set(middle, at);
    at += middle.length;
    for (let i = 0; i < seq.length; i++) buf[at++] = seq.charCodeAt(i);
    if (tail.length === 1) buf[at++] = tail[0]!;
    else {
      buf.set(tail, at);
      at += tail.length;
    }
    out.length = at;
  }

  /** One Reading as a new Buffer (a message of its own). */
  toBuffer(r: Reading, t0 = Number.NaN): Buffer {
    this.scratch.clear();
    this.write(r, this.scratch, t0);
    return this.scratch.copy();
  }

  private pointBytes(r: Reading): PointBytes {
    if (r.gateway !== this.gateway) {
      this.gateway = r.gateway;
      this.points.clear();
      this.devicePoints = undefined;
      this.size = 0;
    }
    // Readings come device by device: the last device's points are usually the ones needed.
    let byPoint = r.device === this.device ? this.devicePoints : this.points.get(r.device);
    this.device = r.device;
    this.devicePoints = byPoint;
    const p = byPoint?.get(r.point);
    if (p !== undefined) {
      const m = p.middle;
      if (
        m.type === r.type &&
        m.quality === r.quality &&
        m.protocol === r.protocol &&
        p.status === r.status &&
        p.unit === r.unit &&
        p.address === r.address
      )
        return p;
    }
    const made = this.make(r, p);
    if (p === undefined) {
      if (this.size >= this.maxPoints) {
        this.points.clear();
        this.middles.clear();
        this.size = 0;
        byPoint = undefined;
      }
      if (!byPoint) {
        byPoint = new Map();
        this.points.set(r.device, byPoint);
      }
      this.devicePoints = byPoint;
      this.size++;
    }
    byPoint!.set(r.point, made);
    return made;
  }

  private middle(type: string, quality: string, protocol: string): Middle {
    const key = `${type}\u0000${quality}\u0000${protocol}`;
    let m = this.middles.get(key);
    if (!m) {
      if (this.middles.size >= 1_000) this.middles.clear();
      m = new Middle(this.format, type, quality, protocol);
      this.middles.set(key, m);
    }
    return m;
  }

  private make(r: Reading, old: PointBytes | undefined): PointBytes {
    const { gateway, device, point, protocol, status, unit, address } = r;
    return {
      middle: this.middle(r.type, r.quality, protocol),
      status,
      unit,
      address,
      head: old?.head ?? utf8(this.format.head(gateway, device, point)),
      tail: utf8(this.format.tail(protocol, status, unit, address)),
    };
  }
}

/** A writer of Readings as JSON objects (see the file's comment); `maxPoints` bounds its cache. */
export const readingJsonWriter = (maxPoints?: number): ReadingWriter =>
  new ReadingWriter(JSON_READING, maxPoints);
