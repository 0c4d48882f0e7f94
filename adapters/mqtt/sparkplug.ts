/**
 * Sparkplug B ingest for one gateway device = one edge node (or one device of it): feeds the node's
 * messages through the protocol's `EdgeNodeSession`, turns the metrics of this device into samples,
 * deaths into bad/Disconnected samples, and says when to publish a Rebirth NCMD (throttled). No I/O.
 */

import {
  buildTopic,
  decodePayload,
  encodePayload,
  groupFilter,
  type MetricIn,
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
  oversized: Counter;
}

/** The least time between two rebirth requests, so a broken node is not flooded with NCMDs. */
export const REBIRTH_INTERVAL_MS = 5_000;

/** One edge node (or device) as points. */
export class SparkplugIngest {
  readonly #session = new EdgeNodeSession();
  readonly #byMetric = new Map<string, MqttPoint[]>();
  readonly #points: readonly MqttPoint[];
  #lastRebirth = Number.NEGATIVE_INFINITY;

  constructor(
    points: readonly MqttPoint[],
    private readonly sp: SparkplugSettings,
    private readonly maxBytes: number,
    private readonly clock: Clock,
    private readonly counters: SparkplugCounters,
    private readonly debug: (obj: object, msg: string) => void,
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

  /** Samples for this device, and a rebirth request to publish if one is due. Never throws. */
  handle(topic: string, bytes: Uint8Array): { samples: Sample[]; rebirth?: Outgoing } {
    const t = parseTopic(topic);
    if (!t || t.group !== this.sp.groupId || t.edgeNode !== this.sp.edgeNodeId) return { samples: [] };
    if (t.type === "NCMD" || t.type === "DCMD") return { samples: [] };
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
    const outcome = this.#session.handle(t.type, t.device, decoded.payload);
    const mine = this.sp.deviceId;
    const samples: Sample[] = [];
    const address = (metric: string) => `${topic.replace(/\/[A-Z]+\//, "/")}:${metric}`;
    for (const u of outcome.updates) {
      if (u.device !== mine) continue;
      for (const p of this.#byMetric.get(u.name) ?? []) {
        const s: Sample = { point: p.id, value: u.value, quality: "good", address: address(u.name) };
        if (u.timestamp !== undefined) s.sourceTs = u.timestamp;
        samples.push(s);
      }
    }
    if (outcome.deaths.includes(mine)) {
      for (const p of this.#points)
        samples.push({ point: p.id, value: null, quality: "bad", status: "Disconnected" });
    }
    if (outcome.unknownAliases > 0) this.counters.unknownAliases.inc(outcome.unknownAliases);
    const result: { samples: Sample[]; rebirth?: Outgoing } = { samples };
    if (outcome.rebirth) {
      this.debug({ topic, reason: outcome.rebirth }, "Sparkplug edge node needs a rebirth");
      const req = this.#rebirth(outcome.rebirth);
      if (req) result.rebirth = req;
    }
    return result;
  }

  #rebirth(reason: string): Outgoing | undefined {
    if ((this.sp.rebirth ?? "request") === "never") return undefined;
    const now = this.clock.now();
    if (now - this.#lastRebirth < REBIRTH_INTERVAL_MS) return undefined;
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
