/**
 * What a host application tracks per Sparkplug edge node: whether it is born, the last `seq`, and
 * the metrics its NBIRTH and DBIRTHs declared (names, aliases, types). Each message goes in, and out
 * comes what it means: metric values to publish, deaths, and whether to ask for a rebirth (a seq gap,
 * an unknown alias, data before birth). Pure: no sockets, no timers; the caller sends the NCMD.
 */
import type { MetricValue, Payload, SparkplugType } from "./payload.js";
import type { MessageType } from "./topic.js";

/** A metric value, resolved to its name and owner (`device` undefined for the edge node itself). */
export interface MetricUpdate {
  device: string | undefined;
  name: string;
  type: SparkplugType;
  value: MetricValue;
  /** Epoch ms: the metric's timestamp, else the payload's. */
  timestamp?: number;
}

/** What one message means. */
export interface Outcome {
  updates: MetricUpdate[];
  /** Owners that died with this message: `undefined` is the edge node itself. */
  deaths: (string | undefined)[];
  /** Set when the edge node should be asked for a rebirth, saying why. */
  rebirth?: string;
  /** Metrics dropped because their alias was not declared by a birth. */
  unknownAliases: number;
  /** Set when the message changed nothing because it is stale, saying why (an NDEATH of an older session). */
  ignored?: string;
}

interface Declared {
  device: string | undefined;
  name: string;
  type: SparkplugType;
}

/** The host-side state of one edge node and its devices. */
export class EdgeNodeSession {
  #born = false;
  #seq: number | undefined;
  /** The NBIRTH's `bdSeq`, as a decimal string (it is an Int64). */
  #bdSeq: string | undefined;
  /** Every device ever seen under this node, born or not: an NDEATH kills them all. */
  readonly #known = new Set<string>();
  readonly #aliases = new Map<string, Declared>();
  /** Declared metrics by owner key (`""` for the node, `d:<id>` for a device) and name. */
  readonly #names = new Map<string, Map<string, Declared>>();
  readonly #devices = new Set<string>();

  /** Whether an NBIRTH has been seen since the last NDEATH. */
  get born(): boolean {
    return this.#born;
  }

  /** Devices born since the node's birth. */
  get devices(): readonly string[] {
    return [...this.#devices];
  }

  /** The declared type of a metric, if a birth declared it. */
  declared(device: string | undefined, name: string): SparkplugType | undefined {
    return this.#names.get(key(device))?.get(name)?.type;
  }

  /** Applies one message of this edge node (or one of its devices). */
  handle(type: MessageType, device: string | undefined, payload: Payload): Outcome {
    const out: Outcome = { updates: [], deaths: [], unknownAliases: 0 };
    switch (type) {
      case "NBIRTH":
        this.#reset();
        this.#born = true;
        this.#seq = payload.seq;
        this.#bdSeq = bdSeqOf(payload);
        this.#declare(undefined, payload, out);
        return out;
      case "NDEATH": {
        // Sparkplug 3.0: an NDEATH whose bdSeq is not the current NBIRTH's is an older session's
        // will arriving late, and must not kill the session that is alive now.
        const bd = bdSeqOf(payload);
        if (this.#born && this.#bdSeq !== undefined && bd !== undefined && bd !== this.#bdSeq) {
          out.ignored = `NDEATH bdSeq ${bd} is not the NBIRTH's ${this.#bdSeq}`;
          return out;
        }
        // Every device ever seen dies with the node, whatever happened before (a DDEATH, a DBIRTH
        // again, data before any birth).
        out.deaths.push(undefined, ...this.#known);
        this.#reset();
        return out;
      }
      case "DBIRTH":
      case "DDATA":
      case "DDEATH":
      case "NDATA":
        if (device !== undefined) this.#known.add(device);
        if (!this.#born) {
          out.rebirth = `${type} before NBIRTH`;
          return out;
        }
        this.#checkSeq(payload.seq, out);
        if (type === "DBIRTH") {
          this.#devices.add(device!);
          this.#forget(device);
          this.#declare(device, payload, out);
        } else if (type === "DDEATH") {
          this.#devices.delete(device!);
          out.deaths.push(device);
        } else this.#data(device, payload, out);
        return out;
      default:
        return out; // NCMD/DCMD are commands to the node, not state.
    }
  }

  #reset(): void {
    this.#born = false;
    this.#seq = undefined;
    this.#bdSeq = undefined;
    this.#aliases.clear();
    this.#names.clear();
    this.#devices.clear();
  }

  #forget(device: string | undefined): void {
    this.#names.delete(key(device));
    for (const [alias, d] of this.#aliases) if (d.device === device) this.#aliases.delete(alias);
  }

  #checkSeq(seq: number | undefined, out: Outcome): void {
    const expected = this.#seq === undefined ? undefined : (this.#seq + 1) % 256;
    if (seq === undefined) out.rebirth = "message without seq";
    else if (expected !== undefined && seq !== expected)
      out.rebirth = `seq gap: expected ${expected}, got ${seq}`;
    if (seq !== undefined) this.#seq = seq;
  }

  #declare(device: string | undefined, payload: Payload, out: Outcome): void {
    const names = new Map<string, Declared>();
    this.#names.set(key(device), names);
    for (const m of payload.metrics) {
      if (m.name === undefined) continue;
      const d: Declared = { device, name: m.name, type: m.type };
      names.set(m.name, d);
      if (m.alias !== undefined) this.#aliases.set(m.alias, d);
      out.updates.push(update(d, m.value, m.timestamp ?? payload.timestamp));
    }
  }

  #data(device: string | undefined, payload: Payload, out: Outcome): void {
    const names = this.#names.get(key(device));
    for (const m of payload.metrics) {
      const d =
        m.name !== undefined
          ? (names?.get(m.name) ?? { device, name: m.name, type: m.type })
          : this.#alias(m.alias);
      if (!d || d.device !== device) {
        out.unknownAliases++;
        out.rebirth ??= `unknown alias ${m.alias ?? "(none)"}`;
        continue;
      }
      out.updates.push(update(d, m.value, m.timestamp ?? payload.timestamp));
    }
  }

  #alias(alias: string | undefined): Declared | undefined {
    return alias === undefined ? undefined : this.#aliases.get(alias);
  }
}

/** The `bdSeq` metric of an NBIRTH or NDEATH, as a decimal string; undefined when absent or null. */
function bdSeqOf(payload: Payload): string | undefined {
  const v = payload.metrics.find((m) => m.name === "bdSeq")?.value;
  return typeof v === "number" || typeof v === "string" ? String(v) : undefined;
}

const key = (device: string | undefined) => (device === undefined ? "" : `d:${device}`);

function update(d: Declared, value: MetricValue, timestamp: number | undefined): MetricUpdate {
  const u: MetricUpdate = { device: d.device, name: d.name, type: d.type, value };
  if (timestamp !== undefined) u.timestamp = timestamp;
  return u;
}
