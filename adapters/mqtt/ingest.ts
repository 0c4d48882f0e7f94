/**
 * JSON/plain ingest: routes each message to the points whose topic template matches it, extracts
 * each point's value from the payload (parsed once per message), and builds the command topic of a
 * write. No I/O: the adapter feeds messages in and sends what comes out.
 */

import { extract, ParsedPayload } from "../../protocols/mqtt/extract.js";
import { compileTemplate, renderTopic, type TopicTemplate } from "../../protocols/mqtt/topic.js";
import type { Counter, PointConfig, Sample } from "../../src/sdk/index.js";
import type { MqttPointFields, MqttSettings } from "./config.js";

/** An MQTT point: core fields plus topic, extraction and command settings. */
export type MqttPoint = PointConfig<MqttPointFields>;

/** Status of samples whose message exceeded `maxPayloadBytes`. */
export const PAYLOAD_TOO_LARGE = "PayloadTooLarge";

interface Route {
  point: MqttPoint;
  template: TopicTemplate;
  /** Distinct topics seen by a wildcard point, bounded by `maxTopicsPerPoint`. */
  topics: Set<string>;
  /** Names bound by the last message, for the command topic. */
  bindings: Record<string, string>;
  /** The topic limit was reached and said so once at warn. */
  limitWarned?: boolean;
}

/** Counters the ingest reports into. */
export interface IngestCounters {
  unmatched: Counter;
  oversized: Counter;
  payloadErrors: Counter;
  topicLimitDrops: Counter;
}

/** Routes messages to points. Throws at construction on a point without a valid topic. */
export class JsonIngest {
  readonly #exact = new Map<string, Route[]>();
  readonly #wild: Route[] = [];
  readonly #byPoint = new Map<string, Route>();
  readonly #maxBytes: number;
  readonly #maxTopics: number;

  constructor(
    points: readonly MqttPoint[],
    private readonly settings: MqttSettings,
    private readonly counters: IngestCounters,
    private readonly debug: (obj: object, msg: string) => void,
    /** Said once per point, when its topic limit is first reached. */
    private readonly warn: (obj: object, msg: string) => void = debug,
  ) {
    this.#maxBytes = settings.maxPayloadBytes ?? 262144;
    this.#maxTopics = settings.maxTopicsPerPoint ?? 1000;
    for (const point of points) {
      if (!point.topic) throw new Error(`point ${point.id} has no topic`);
      const template = compileTemplate(point.topic, settings.vars ?? {});
      const route: Route = { point, template, topics: new Set(), bindings: {} };
      this.#byPoint.set(point.id, route);
      if (template.wildcard) this.#wild.push(route);
      else this.#exact.set(template.filter, [...(this.#exact.get(template.filter) ?? []), route]);
    }
  }

  /** The filters to subscribe to, each once. */
  filters(): string[] {
    return [...new Set([...this.#exact.keys(), ...this.#wild.map((r) => r.template.filter)])];
  }

  /** The samples one message yields (none when no point takes it). Never throws. */
  samples(topic: string, payload: Uint8Array): Sample[] {
    const routes: Route[] = [];
    for (const r of this.#exact.get(topic) ?? []) routes.push(r);
    for (const r of this.#wild) {
      const bindings = r.template.match(topic);
      if (!bindings) continue;
      if (!r.topics.has(topic)) {
        if (r.topics.size >= this.#maxTopics) {
          this.counters.topicLimitDrops.inc();
          const what = { topic, point: r.point.id, maxTopicsPerPoint: this.#maxTopics };
          if (!r.limitWarned)
            this.warn(
              what,
              "wildcard point reached maxTopicsPerPoint: messages on further topics are dropped and counted (mqtt_topic_limit_drops)",
            );
          else this.debug(what, "topic limit of point reached; message dropped");
          r.limitWarned = true;
          continue;
        }
        r.topics.add(topic);
      }
      r.bindings = bindings;
      routes.push(r);
    }
    if (routes.length === 0) {
      this.counters.unmatched.inc();
      this.debug({ topic }, "message matches no point; dropped");
      return [];
    }
    if (payload.byteLength > this.#maxBytes) {
      this.counters.oversized.inc();
      this.debug({ topic, bytes: payload.byteLength }, "payload larger than maxPayloadBytes");
      return routes.map((r) => ({
        point: r.point.id,
        value: null,
        quality: "bad",
        status: PAYLOAD_TOO_LARGE,
        address: topic,
      }));
    }
    const parsed = new ParsedPayload(payload);
    return routes.map((r) => this.#sample(r, topic, parsed));
  }

  #sample(r: Route, topic: string, parsed: ParsedPayload): Sample {
    const p = r.point;
    const x = extract(
      {
        type: p.type,
        format: p.format ?? "json",
        path: p.path,
        timestampPath: p.timestampPath,
        qualityPath: p.qualityPath,
      },
      parsed,
    );
    if (!x.ok) {
      this.counters.payloadErrors.inc();
      this.debug({ topic, point: p.id, status: x.status }, "payload did not yield a value");
      return { point: p.id, value: null, quality: "bad", status: x.status, address: topic };
    }
    const s: Sample = {
      point: p.id,
      value: x.value as Sample["value"],
      quality: x.quality ?? "good",
      address: topic,
    };
    if (x.quality && x.quality !== "good") s.status = "ReportedByDevice";
    if (x.sourceTs !== undefined) s.sourceTs = x.sourceTs;
    return s;
  }

  /** The topic a write to `point` is published to; throws when the point has no command topic. */
  commandTopic(point: MqttPoint, device: string): string {
    if (!point.commandTopic) throw new Error(`point ${point.id} has no commandTopic`);
    const bindings = this.#byPoint.get(point.id)?.bindings ?? {};
    // A name the template bound wins over vars, and both over the built-in {point} and {device}.
    const values = { point: point.id, device, ...(this.settings.vars ?? {}), ...bindings };
    return renderTopic(point.commandTopic, values);
  }
}
