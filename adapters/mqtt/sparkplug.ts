/**
 * Sparkplug B ingest for one gateway device = one edge node (or one device of it): feeds the node's
 * messages through the protocol's `EdgeNodeSession`, turns the metrics of this device into samples,
 * deaths into bad/Disconnected samples, and says when to publish a Rebirth NCMD (throttled, and left
 * to whichever host asks first). No I/O.
 */

import {
  buildTopic,
  decodePayload,
  encodePayload,
  groupFilter,
  type MetricIn,
  NAMESPACE,
  parseTopic,
  REBIRTH_METRIC,
  sparkplugTypeOf,
} from "../../protocols/sparkplug/index.js";
import { EdgeNodeSession } from "../../protocols/sparkplug/session.js";
import type { Clock, Counter, Sample } from "../../src/sdk/index.js";
import type { MqttSettings } from "./config.js";
import type { MqttPoint } from "./ingest.js";

type SparkplugSettings = NonNullable<MqttSettings["sparkplug"]>;

/** An outgoing message: topic and payload. */
export interface Outgoing {
  topic: string;
  payload: Uint8Array;
}

/** Counters the Sparkplug ingest reports into. */
export interface SparkplugCounters {
  malformed: Counter;
  unknownAliases: Counter;
  rebirths: Counter;
  /** Rebirth requests not sent: another host asked first, or the node was born meanwhile. */
  rebirthsSkipped: Counter;
  oversized: Counter;
}

/** The least time between two rebirth requests, so a broken node is not flooded with NCMDs. */
export const REBIRTH_INTERVAL_MS = 5_000;

/** The longest holdoff before a rebirth request (see `rebirthHoldoffMs`). */
export const REBIRTH_HOLDOFF_MAX_MS = 1_000;

/**
 * How long a client waits before it sends a Rebirth request, so that of several gateway devices
 * reading the same edge node (each with its own connection, each seeing the same seq gap at the
 * same moment) one asks and the others see its NCMD on the broker and keep quiet. Spread over
 * 0–1000 ms in 25 ms slots by a hash of the client id: stable per client, different for most pairs.
 */
export function rebirthHoldoffMs(clientId: string): number {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < clientId.length; i++) h = Math.imul(h ^ clientId.charCodeAt(i), 0x01000193);
  return ((h >>> 0) % (REBIRTH_HOLDOFF_MAX_MS / 25)) * 25;
}

/** One edge node (or device) as points. */
export class SparkplugIngest {
  readonly #session = new EdgeNodeSession();
  readonly #byMetric = new Map<string, MqttPoint[]>();
  readonly #points: readonly MqttPoint[];
  #lastRebirth = Number.NEGATIVE_INFINITY;
  /** Why a rebirth is wanted, while its holdoff runs. */
  #pending: string | undefined;

  constructor(
    points: readonly MqttPoint[],
    private readonly sp: SparkplugSettings,
    private readonly maxBytes: number,
    private readonly clock: Clock,
    private readonly counters: SparkplugCounters,
    private readonly debug: (obj: object, msg: string) => void,
    /** How long to wait for another host's Rebirth request before sending one: see `rebirthHoldoffMs`. */
    private readonly holdoffMs = 0,
  ) {
    this.#points = points;
    for (const p of points) {
      const name = p.metric ?? p.id;
      this.#byMetric.set(name, [...(this.#byMetric.get(name) ?? []), p]);
    }
  }

  /** The one filter to subscribe to: every message of this edge node. */
  filters(): string[] {
    return [groupFilter(this.sp.groupId, this.sp.edgeNodeId)];
  }

  /**
   * Samples for this device, and `rebirthInMs` when a Rebirth NCMD is due: the caller then calls
   * `takeRebirth()` after that many ms. Never throws.
   */
  handle(topic: string, bytes: Uint8Array): { samples: Sample[]; rebirthInMs?: number } {
    const t = parseTopic(topic);
    if (!t || t.group !== this.sp.groupId || t.edgeNode !== this.sp.edgeNodeId) return { samples: [] };
    if (t.type === "DCMD") return { samples: [] };
    if (bytes.byteLength > this.maxBytes) {
      this.counters.oversized.inc();
      this.debug(
        { topic, bytes: bytes.byteLength },
        "Sparkplug payload larger than maxPayloadBytes; dropped",
      );
      return { samples: [] };
    }
    const decoded = decodePayload(bytes);
    if (!decoded.ok) {
      this.counters.malformed.inc();
      this.debug({ topic, error: decoded.error }, "malformed Sparkplug payload; dropped");
      return { samples: [] };
    }
    if (t.type === "NCMD") {
      // Any host's Rebirth request to this node (ours echoed back included) satisfies our need for one.
      if (decoded.payload.metrics.some((x) => x.name === REBIRTH_METRIC && x.value === true))
        this.#rebirthSeen();
      return { samples: [] };
    }
    const outcome = this.#session.handle(t.type, t.device, decoded.payload);
    if (outcome.ignored) this.debug({ topic, reason: outcome.ignored }, "Sparkplug message ignored");
    if (t.type === "NBIRTH") this.#cancelPending("the node was born");
    const mine = this.sp.deviceId;
    const samples: Sample[] = [];
    for (const u of outcome.updates) {
      if (u.device !== mine) continue;
      for (const p of this.#byMetric.get(u.name) ?? []) {
        const s: Sample = { point: p.id, value: u.value, quality: "good", address: this.address(p) };
        if (u.timestamp !== undefined) s.sourceTs = u.timestamp;
        samples.push(s);
      }
    }
    // The node's death is the death of every device under it, whatever the session knew of them.
    if (outcome.deaths.includes(undefined) || outcome.deaths.includes(mine)) {
      for (const p of this.#points)
        samples.push({
          point: p.id,
          value: null,
          quality: "bad",
          status: "Disconnected",
          address: this.address(p),
        });
    }
    if (outcome.unknownAliases > 0) this.counters.unknownAliases.inc(outcome.unknownAliases);
    const result: { samples: Sample[]; rebirthInMs?: number } = { samples };
    if (outcome.rebirth) {
      this.debug({ topic, reason: outcome.rebirth }, "Sparkplug edge node needs a rebirth");
      if (this.#needRebirth(outcome.rebirth)) result.rebirthInMs = this.holdoffMs;
    }
    return result;
  }

  /**
   * A point's address, the same for births, data and deaths:
   * `spBv1.0/{group}/{edgeNode}/{device}:{metric}`, or `spBv1.0/{group}/{edgeNode}:{metric}` for
   * the edge node's own metrics.
   */
  address(point: MqttPoint): string {
    const { groupId, edgeNodeId, deviceId } = this.sp;
    const owner = deviceId === undefined ? edgeNodeId : `${edgeNodeId}/${deviceId}`;
    return `${NAMESPACE}/${groupId}/${owner}:${point.metric ?? point.id}`;
  }

  /**
   * The connection to the broker is (again) up. What the node published meanwhile is lost, and a
   * node that reports by exception may publish nothing until its values change: ask it for a
   * rebirth (after the holdoff, and only if no other host does and no NBIRTH comes first).
   * Returns when to call `takeRebirth()`, or undefined when no request is due.
   */
  connected(): number | undefined {
    this.#lastRebirth = Number.NEGATIVE_INFINITY; // a new connection: the last request's spacing is moot
    return this.#needRebirth("connected to the broker") ? this.holdoffMs : undefined;
  }

  /**
   * Records a need for a rebirth; true when the caller should call `takeRebirth()` after the
   * holdoff. A need within REBIRTH_INTERVAL_MS of the last request is kept, not dropped:
   * `takeRebirth()` then answers undefined and `rebirthDueInMs()` says when to try again.
   */
  #needRebirth(reason: string): boolean {
    if ((this.sp.rebirth ?? "request") === "never") return false;
    if (this.#pending !== undefined) return false; // already waiting for its holdoff
    this.#pending = reason;
    return true;
  }

  /** Ms until a pending request may be sent (0 when it may now), or undefined when none is pending. */
  rebirthDueInMs(): number | undefined {
    if (this.#pending === undefined) return undefined;
    return Math.max(0, this.#lastRebirth + REBIRTH_INTERVAL_MS - this.clock.now());
  }

  #rebirthSeen(): void {
    this.#lastRebirth = this.clock.now();
    this.#cancelPending("another host asked for a rebirth");
  }

  /** Forgets a pending rebirth request (the adapter stopped before its holdoff ended). */
  cancelRebirth(): void {
    this.#pending = undefined;
  }

  #cancelPending(why: string): void {
    if (this.#pending === undefined) return;
    this.debug({ reason: this.#pending, why }, "rebirth request not needed any more");
    this.#pending = undefined;
    this.counters.rebirthsSkipped.inc();
  }

  /**
   * The Rebirth NCMD to publish now, once the holdoff after `handle()` asked for one has passed;
   * undefined when the need went away meanwhile (a Rebirth NCMD from any host, or an NBIRTH, seen).
   */
  takeRebirth(): Outgoing | undefined {
    const reason = this.#pending;
    if (reason === undefined || this.rebirthDueInMs()! > 0) return undefined; // asked recently
    this.#pending = undefined;
    const now = this.clock.now();
    this.#lastRebirth = now;
    this.counters.rebirths.inc();
    this.debug({ reason }, "requesting rebirth");
    return {
      topic: buildTopic({ group: this.sp.groupId, type: "NCMD", edgeNode: this.sp.edgeNodeId }),
      payload: encodePayload({
        timestamp: now,
        metrics: [{ name: REBIRTH_METRIC, type: "Boolean", value: true }],
      }),
    };
  }

  /** The NCMD/DCMD that writes `value` to the point's metric, typed as its birth declared it. */
  command(point: MqttPoint, value: unknown): Outgoing {
    const name = point.metric ?? point.id;
    const device = this.sp.deviceId;
    const type = this.#session.declared(device, name) ?? sparkplugTypeOf(point.type);
    const metric: MetricIn = { name, type, value, timestamp: this.clock.now() };
    const base = { group: this.sp.groupId, edgeNode: this.sp.edgeNodeId };
    const topic = buildTopic(
      device === undefined ? { ...base, type: "NCMD" } : { ...base, type: "DCMD", device },
    );
    return { topic, payload: encodePayload({ timestamp: this.clock.now(), metrics: [metric] }) };
  }
}
