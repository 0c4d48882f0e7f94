/**
 * The fast JSON encoder of a Reading, for the places that send many Readings as JSON (north sink
 * batches and messages). It writes UTF-8 bytes straight into a reused buffer, from cached bytes of
 * what repeats: per point the head (`{"gateway":…,"device":…,"point":…,"value":`) and the tail
 * (status, unit, address), and between value and seq the type, quality, protocol and the poll's
 * timestamps, shared by the points they are the same for. A Reading then costs formatting its
 * value and seq and three copies, with no string built per Reading.
 *
 * The bytes are exactly `JSON.stringify(r)` for a Reading whose keys are in the order the core
 * builds them (gateway, device, point, value, type, quality, ts, receivedAt, protocol, seq, then
 * status, unit, address when present); a Reading with its keys in another order gets the same
 * fields in that order (the same JSON value). Keys outside the Reading schema are not written.
 */
import type { Reading } from "./reading.js";

/** A growable buffer of UTF-8 bytes. */
export class ByteBuffer {
  buf: Buffer;
  length = 0;

  constructor(initial = 4096) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Makes room for `n` more bytes. */
  room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  /** Appends bytes. */
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Appends a string that is only ASCII (numbers, JSON punctuation). */
  ascii(s: string): void {
    this.room(s.length);
    const buf = this.buf;
    const at = this.length;
    for (let i = 0; i < s.length; i++) buf[at + i] = s.charCodeAt(i);
    this.length = at + s.length;
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
 * The bytes between a Reading's value and its seq, `,"type":…,"quality":…,"ts":…,"receivedAt":…,
 * "protocol":…,"seq":`, shared by the points of one type, quality and protocol, and remade when
 * the timestamps change (once per poll, not once per point).
 */
class Middle {
  private readonly before: string;
  private readonly after: string;
  private ts = "";
  private receivedAt = "";
  private bytes: Buffer = Buffer.alloc(0);

  constructor(
    readonly type: string,
    readonly quality: string,
    readonly protocol: string,
  ) {
    this.before = `,"type":${json(type)},"quality":${json(quality)},"ts":`;
    this.after = `,"protocol":${json(protocol)},"seq":`;
  }

  at(ts: string, receivedAt: string): Buffer {
    if (ts !== this.ts || receivedAt !== this.receivedAt || this.bytes.length === 0) {
      this.ts = ts;
      this.receivedAt = receivedAt;
      this.bytes = utf8(`${this.before}${json(ts)},"receivedAt":${json(receivedAt)}${this.after}`);
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
  /** `{"gateway":…,"device":…,"point":…,"value":` */
  head: Buffer;
  /** `[,"status":…][,"unit":…][,"address":…]}` */
  tail: Buffer;
}

/** Writes Readings as JSON into a {@link ByteBuffer}; keep one per consumer (it holds caches). */
export class ReadingJsonWriter {
  private gateway = "";
  private gatewayJson = "";
  private readonly points = new Map<string, Map<string, PointBytes>>();
  private readonly middles = new Map<string, Middle>();
  private device = "";
  private devicePoints: Map<string, PointBytes> | undefined;
  private size = 0;

  constructor(private readonly maxPoints = 50_000) {}

  /** Appends the JSON of `r` to `out`. */
  write(r: Reading, out: ByteBuffer): void {
    const p = this.pointBytes(r);
    out.bytes(p.head);
    const v = r.value;
    if (typeof v === "number") out.ascii(Number.isFinite(v) ? `${v}` : "null");
    else if (typeof v === "boolean") out.ascii(v ? "true" : "false");
    else if (v === null || v === undefined) out.ascii("null");
    else out.text(json(v));
    out.bytes(p.middle.at(r.ts, r.receivedAt));
    out.ascii(`${r.seq}`);
    out.bytes(p.tail);
  }

  /** The JSON of one Reading as a new Buffer. */
  toBuffer(r: Reading, scratch: ByteBuffer): Buffer {
    scratch.clear();
    this.write(r, scratch);
    return scratch.copy();
  }

  private pointBytes(r: Reading): PointBytes {
    if (r.gateway !== this.gateway) {
      this.gateway = r.gateway;
      this.gatewayJson = json(r.gateway);
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
        this.devicePoints = undefined;
      }
      if (!byPoint) {
        byPoint = new Map();
        this.points.set(r.device, byPoint);
        this.devicePoints = byPoint;
      }
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
      m = new Middle(type, quality, protocol);
      this.middles.set(key, m);
    }
    return m;
  }

  private make(r: Reading, old: PointBytes | undefined): PointBytes {
    const { device, point, status, unit, address } = r;
    return {
      middle: this.middle(r.type, r.quality, r.protocol),
      status,
      unit,
      address,
      head:
        old?.head ??
        utf8(`{"gateway":${this.gatewayJson},"device":${json(device)},"point":${json(point)},"value":`),
      tail: utf8(
        `${status === undefined ? "" : `,"status":${json(status)}`}${unit === undefined ? "" : `,"unit":${json(unit)}`}${address === undefined ? "" : `,"address":${json(address)}`}}`,
      ),
    };
  }
}
