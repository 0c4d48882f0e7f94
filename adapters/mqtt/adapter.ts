/**
 * The MQTT adapter: a push adapter. start() connects and subscribes; every message goes through the
 * JSON ingest or the Sparkplug ingest and out through `ctx.emit`; mqtt.js's own reconnects are
 * reported with `ctx.setState`. Writes publish to a command topic, or as Sparkplug NCMD/DCMD.
 */

import { encodeCommand } from "../../protocols/mqtt/extract.js";
import { groupFilter } from "../../protocols/sparkplug/topic.js";
import {
  type Adapter,
  type AdapterContext,
  lazyImport,
  WriteRefused,
  type WriteResult,
} from "../../src/sdk/index.js";
import { type MqttClient, type MqttClientOptions, openMqttClient } from "./client.js";
import type { MqttPointFields, MqttSettings } from "./config.js";
import { JsonIngest, type MqttPoint } from "./ingest.js";
import type { SparkplugIngest } from "./sparkplug.js";

/** The context the core hands an MQTT instance. */
export type MqttContext = AdapterContext<MqttSettings, MqttPointFields>;

/** An MQTT instance: it subscribes and writes; it has no read (nothing is polled). */
export type MqttInstance = Required<Pick<Adapter<MqttPointFields>, "start" | "stop" | "write" | "plan">>;

/** Builds the client; tests pass a fake. */
export type ClientFactory = (options: MqttClientOptions) => MqttClient;

/** Client options from validated settings. */
export function clientOptions(ctx: MqttContext): MqttClientOptions {
  const s = ctx.settings;
  const secure = /^(mqtts|wss):/.test(s.url);
  const o: MqttClientOptions = {
    url: s.url,
    protocolVersion: s.protocolVersion === "5" ? 5 : 4,
    clientId: s.clientId ?? `tagbridge-${ctx.gateway}-${ctx.device}`,
    username: s.username,
    password: s.password,
    clean: (s.session ?? "clean") === "clean",
    sessionExpirySec: s.sessionExpirySec,
    keepaliveSec: s.keepaliveSec ?? 30,
    connectTimeoutMs: s.connectTimeoutMs ?? 10_000,
    reconnectPeriodMs: s.reconnectPeriodMs ?? 2_000,
  };
  if (secure || s.tls) {
    const t = s.tls ?? {};
    o.tls = { rejectUnauthorized: (t.serverVerification ?? "verify") === "verify" };
    if (t.caFile) o.tls.caFile = t.caFile;
    if (t.certFile) o.tls.certFile = t.certFile;
    if (t.keyFile) o.tls.keyFile = t.keyFile;
  }
  return o;
}

/** The Sparkplug ingest and its protobuf codec, imported when the first Sparkplug device starts. */
const sparkplugIngest = lazyImport(() => import("./sparkplug.js"));

/** Creates an MQTT instance for one device. No I/O. */
export function createMqtt(ctx: MqttContext, openClient: ClientFactory = openMqttClient): MqttInstance {
  const m = ctx.metrics;
  const messages = m.counter("mqtt_messages", "MQTT messages received.");
  const debug = (obj: object, msg: string) => ctx.log.debug(obj, msg);
  const points = ctx.points as readonly MqttPoint[];
  const sp = ctx.settings.sparkplug;
  const qos = (ctx.settings.qos ?? 1) as 0 | 1 | 2;
  // Built lazily in start(), so a bad topic template fails start() with a clear message.
  let json: JsonIngest | undefined;
  let spark: SparkplugIngest | undefined;
  let client: MqttClient | undefined;
  let phase: "idle" | "running" | "stopped" = "idle";

  const ingest = () => {
    if (sp) {
      if (spark) return spark;
      const { SparkplugIngest, rebirthHoldoffMs } = sparkplugIngest.get();
      spark = new SparkplugIngest(
        points,
        sp,
        ctx.settings.maxPayloadBytes ?? 262144,
        ctx.clock,
        {
          malformed: m.counter(
            "mqtt_malformed_payloads",
            "Sparkplug payloads that failed to decode; dropped.",
          ),
          unknownAliases: m.counter(
            "sparkplug_unknown_aliases",
            "Sparkplug metrics with an alias no birth declared.",
          ),
          rebirths: m.counter("sparkplug_rebirth_requests", "Rebirth NCMDs published."),
          rebirthsSkipped: m.counter(
            "sparkplug_rebirth_skipped",
            "Rebirth NCMDs not sent: another host asked first, or the node was born meanwhile.",
          ),
          oversized: m.counter("mqtt_oversized_payloads", "Messages larger than maxPayloadBytes."),
        },
        debug,
        rebirthHoldoffMs(clientOptions(ctx).clientId),
      );
      return spark;
    }
    json ??= new JsonIngest(
      points,
      ctx.settings,
      {
        unmatched: m.counter("mqtt_unmatched_messages", "Messages no point takes; dropped."),
        oversized: m.counter("mqtt_oversized_payloads", "Messages larger than maxPayloadBytes."),
        payloadErrors: m.counter(
          "mqtt_payload_errors",
          "Point values a payload did not yield (bad samples).",
        ),
        topicLimitDrops: m.counter(
          "mqtt_topic_limit_drops",
          "Messages dropped: a wildcard point reached maxTopicsPerPoint.",
        ),
      },
      debug,
      (obj, msg) => ctx.log.warn(obj, msg),
    );
    return json;
  };

  // The one timer of the adapter: the holdoff before a Rebirth request (see rebirthHoldoffMs).
  let rebirthTimer: NodeJS.Timeout | undefined;
  const scheduleRebirth = (c: MqttClient, ms: number) => {
    clearTimeout(rebirthTimer);
    rebirthTimer = setTimeout(() => {
      rebirthTimer = undefined;
      if (phase === "stopped" || c !== client) return;
      const req = spark?.takeRebirth();
      if (req)
        c.publish(req.topic, req.payload, qos === 2 ? 1 : qos).catch((err) =>
          debug({ err }, "rebirth request not published"),
        );
      else {
        const again = spark?.rebirthDueInMs(); // a request was made recently: try once it may be sent
        if (again !== undefined) scheduleRebirth(c, again);
      }
    }, ms);
    rebirthTimer.unref();
  };

  /** Sparkplug: after every (re)connect, the node's current values come from a rebirth. */
  const askForBirth = (c: MqttClient) => {
    const inMs = spark?.connected();
    if (inMs !== undefined) scheduleRebirth(c, inMs);
  };

  const onMessage = (c: MqttClient, topic: string, payload: Buffer) => {
    // Messages a persistent session queued arrive before start() resolves: take them too.
    if (phase === "stopped" || c !== client) return;
    messages.inc();
    try {
      if (spark) {
        const out = spark.handle(topic, payload);
        if (out.samples.length > 0) ctx.emit(out.samples);
        if (out.rebirthInMs !== undefined) scheduleRebirth(c, out.rebirthInMs);
      } else if (json) {
        const samples = json.samples(topic, payload);
        if (samples.length > 0) ctx.emit(samples);
      }
    } catch (err) {
      debug({ err, topic }, "message handling failed; dropped"); // never let one message kill the client
    }
  };

  return {
    async start() {
      if (phase === "running") return;
      phase = "idle";
      if (sp) await sparkplugIngest.load();
      const filters = ingest().filters();
      if (ctx.settings.tls?.serverVerification === "insecure")
        ctx.log.warn(
          "TLS server verification is off (serverVerification: insecure): the broker is not authenticated",
        );
      const c = openClient(clientOptions(ctx));
      client = c;
      c.onMessage((msg) => onMessage(c, msg.topic, msg.payload));
      c.onState((state, reason) => {
        if (phase !== "running" || c !== client) return;
        ctx.setState(state, reason);
        if (state === "connected") askForBirth(c);
      });
      try {
        await c.connect();
        await c.subscribe(filters, qos);
      } catch (err) {
        await c.end().catch(() => undefined);
        throw err;
      }
      if (client !== c) throw new Error(`mqtt ${ctx.device}: stopped while starting`);
      phase = "running";
      ctx.log.debug({ filters }, "subscribed");
      askForBirth(c);
    },

    async stop() {
      phase = "stopped";
      clearTimeout(rebirthTimer);
      rebirthTimer = undefined;
      spark?.cancelRebirth();
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },

    async write(point, value): Promise<WriteResult> {
      if (point.access !== "readwrite")
        throw new Error(`point ${point.id} is read-only (access: ${point.access ?? "read"})`);
      const c = client;
      if (phase !== "running" || !c) throw new Error(`mqtt ${ctx.device}: not connected`);
      checkValue(point, value);
      const p = point as MqttPoint;
      // The core hands 64-bit integers over as bigint, which JSON cannot carry: a number when safe, else a decimal string.
      if (typeof value === "bigint")
        value = value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value.toString();
      if (spark) {
        const cmd = spark.command(p, value);
        await c.publish(cmd.topic, cmd.payload, qos);
        return { status: cmd.topic.split("/")[2]! };
      }
      const topic = (ingest() as JsonIngest).commandTopic(p, ctx.device);
      const ts = new Date(ctx.clock.now()).toISOString();
      await c.publish(topic, encodeCommand(p.commandFormat ?? "json", value, { point: p.id, ts }), qos);
      return { status: "Published" };
    },

    plan() {
      // Before start() the Sparkplug ingest is not loaded yet: its one filter, from the settings.
      const filters = sp ? [groupFilter(sp.groupId, sp.edgeNodeId)] : ingest().filters();
      return { filters, sparkplug: sp ?? null, qos };
    },
  };
}

const INT = /^u?int(16|32|64)$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Refuses values that cannot be the point's type, before anything is published. */
function checkValue(point: MqttPoint, value: unknown): void {
  const t = point.type;
  const ok =
    t === "bool"
      ? typeof value === "boolean"
      : INT.test(t)
        ? Number.isInteger(value) ||
          (/64$/.test(t) &&
            (typeof value === "bigint" || (typeof value === "string" && /^-?\d+$/.test(value))))
        : t === "float32" || t === "float64"
          ? typeof value === "number" && Number.isFinite(value)
          : t === "string" || t === "datetime"
            ? typeof value === "string"
            : value !== undefined;
  if (!ok)
    throw new WriteRefused(
      "InvalidValue",
      `point ${point.id} is ${t}: cannot write ${JSON.stringify(value, (_k, x) => (typeof x === "bigint" ? x.toString() : x))}`,
    );
}
