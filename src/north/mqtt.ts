/**
 * The MQTT unified-namespace sink: Readings as JSON, one per message or in batches (JSON arrays of
 * Readings, or compact Reading batches with `batch.encoding: compact`; per device or for the whole
 * gateway, closed by size or after `lingerMs`; see batcher.ts), QoS
 * 0/1, optional retain, and a retained gateway status topic (`online` on connect, `offline` on a
 * clean close and as the last will).
 */
import type { MqttClient } from "mqtt";
import type { Reading } from "../schema/reading.js";
import { readingJsonWriter } from "../schema/reading-json.js";
import type { Sink, SinkCapability, SinkContext } from "../sdk/sink.js";
import { defineSink } from "../sdk/sink.js";
import { type Batch, Batcher, type BatchPolicy } from "./batcher.js";
import {
  MQTT_BATCH_DEFAULTS,
  type MqttSettings,
  MqttSettingsSchema,
  mqttSettingsProblems,
} from "./mqtt-config.js";
import { connectMqtt, fillTemplate, mqttLevel, mqttOptions } from "./mqtt-connect.js";
import { pointNames } from "./topic-cache.js";

/**
 * Most one-reading messages handed to the client and not yet acknowledged (payload: reading), over
 * all publish calls together. A window, not slices: each ack lets the next message out, so the
 * connection is never idle waiting for the last acks of a slice. (Mosquitto's socket has Nagle on
 * by default, `set_tcp_nodelay false`: its last PUBACKs wait for our TCP ACK, which Linux delays up
 * to 40 ms when we have nothing to send. Slices of 256 paid that once per slice: a replay drained
 * about 5,000 readings/s with the process 80 % idle.) The acks of a socket read let their
 * successors out in one synchronous burst: 128 drained as fast as 256 (bench/replay-drain.bench.ts)
 * with a shorter longest burst (loop lag p99 of the drain 9 ms instead of 14).
 */
const PER_READING_IN_FLIGHT = 128;
/** Readings of a replay page written into batches between two yields to the event loop (payload: batch). */
const REPLAY_SLICE = 500;
/** Most publish calls queued behind the one being sent (a stalled broker, retried): bounded memory. */
const MAX_QUEUED_CALLS = 8;

/**
 * One publish call of payload: reading, its messages sent in call order after earlier calls'.
 * Once its first message is handed to the client, all of them are (after a reconnect if need be):
 * mqtt.js resends unacknowledged QoS 1 messages on reconnect, so the call resolves exactly when
 * every reading in it was delivered, which the runner's accounting of given-up publishes relies on.
 */
interface Call {
  readings: readonly Reading[];
  /** Index of the next reading to hand to the client. */
  next: number;
  /** Messages not yet acknowledged. */
  left: number;
  /** Until then (epoch ms) it may wait to start; later the runner has given it up. */
  deadline: number;
  done: boolean;
  resolve(): void;
  reject(error: Error): void;
  /** The client's callback for each of its messages. */
  acked(error?: Error | null): void;
}

/** The batch policy and topic template of a sink with payload: batch. */
export function mqttBatching(config: MqttSettings): { policy: BatchPolicy; topic: string } {
  const b = config.batch ?? {};
  const by = b.by ?? MQTT_BATCH_DEFAULTS.by;
  return {
    policy: {
      by,
      maxReadings: b.maxReadings ?? MQTT_BATCH_DEFAULTS.maxReadings,
      maxBytes: b.maxBytes ?? MQTT_BATCH_DEFAULTS.maxBytes,
      lingerMs: b.lingerMs ?? MQTT_BATCH_DEFAULTS.lingerMs,
      encoding: b.encoding ?? MQTT_BATCH_DEFAULTS.encoding,
    },
    topic: b.topic ?? (by === "device" ? "tagbridge/{gateway}/{device}" : "tagbridge/{gateway}/batch"),
  };
}

/**
 * ack: with qos 1 (the default); a QoS 0 publish resolves once written to the socket. batch: with
 * payload: batch (the default), when `batching` is present; payload: reading sends one message per
 * Reading.
 */
export function mqttCapabilities(settings: MqttSettings): SinkCapability[] {
  return [
    ...(settings.qos === "0" ? [] : (["ack"] as const)),
    ...(settings.payload === "reading" ? [] : (["batch"] as const)),
  ];
}

/** The mqtt sink type: Readings as JSON on the unified namespace. */
export const mqttSink = defineSink({
  type: "mqtt",
  description: "MQTT unified namespace, JSON payloads.",
  sdk: "^1.0.0",
  settingsSchema: MqttSettingsSchema,
  capabilities: ["ack", "batch"],
  capabilitiesFor: mqttCapabilities,
  check: mqttSettingsProblems,
  create: createMqttSink,
});

/** Creates an mqtt sink; nothing connects before `start()`. */
export function createMqttSink(ctx: SinkContext<MqttSettings>): Sink {
  const { settings: config, gateway, log } = ctx;
  const qos = config.qos === "0" ? 0 : 1;
  const retain = config.retain ?? false;
  const template = config.topic ?? "tagbridge/{gateway}/{device}/{point}";
  const topicOf = pointNames((device, point) =>
    fillTemplate(template, { gateway, device, point }, mqttLevel),
  );
  const timeoutMs = ctx.publishTimeoutMs;
  const perReading = config.payload === "reading";
  const { policy, topic: batchTopicOf } = mqttBatching(config);
  const gatewayTopic = fillTemplate(batchTopicOf, { gateway }, mqttLevel);
  const deviceTopics = new Map<string, string>();
  const batchTopic = (b: Batch): string => {
    if (policy.by === "gateway") return gatewayTopic;
    let t = deviceTopics.get(b.key);
    if (t === undefined) {
      t = fillTemplate(batchTopicOf, { gateway, device: b.key }, mqttLevel);
      if (deviceTopics.size < 100_000) deviceTopics.set(b.key, t);
    }
    return t;
  };
  const statusTopic = fillTemplate(
    config.statusTopic ?? "tagbridge/{gateway}/status",
    { gateway },
    mqttLevel,
  );
  let client: MqttClient | undefined;
  /** Writes each Reading's JSON (one message per reading). */
  const json = readingJsonWriter();
  let up = false;
  let closed = false;
  let lastError: string | undefined;
  const report = () => ctx.setState(up ? "connected" : "disconnected", lastError);

  const send = (topic: string, payload: string | Buffer, retainIt = retain) =>
    client!.publishAsync(topic, payload, { qos, retain: retainIt });

  // payload: reading. One FIFO of calls, a window of messages in flight over all of them.
  const publishOptions = { qos, retain } as const;
  const queue: Call[] = [];
  let inFlight = 0;
  let pumping = false;
  const settle = (call: Call, error?: Error) => {
    if (call.done) return;
    call.done = true;
    if (error) call.reject(error);
    else call.resolve();
  };
  /** Hands queued messages to the client while the window has room and the connection is up. */
  const pump = () => {
    pumping = false;
    const now = Date.now();
    while (inFlight < PER_READING_IN_FLIGHT && queue.length > 0 && client?.connected && up) {
      const call = queue[0]!;
      if (call.done) queue.shift();
      else if (call.next === 0 && now > call.deadline) {
        queue.shift();
        settle(call, new Error(`publish not started within ${timeoutMs} ms`));
      } else {
        const r = call.readings[call.next++]!;
        if (call.next === call.readings.length) queue.shift();
        inFlight++;
        client.publish(topicOf(r.device, r.point), json.toBuffer(r), publishOptions, call.acked);
      }
    }
  };
  /** Pumps once after the acks the client is processing now (it handles each packet on a tick). */
  const schedulePump = () => {
    if (pumping || queue.length === 0) return;
    pumping = true;
    queueMicrotask(pump);
  };
  /** Fails the queued calls not started (the runner buffers them); one being sent goes on. */
  const failUnstarted = (reason: string) => {
    for (let i = queue.length - 1; i >= 0; i--) {
      const call = queue[i]!;
      if (call.next > 0) continue;
      queue.splice(i, 1);
      settle(call, new Error(reason));
    }
  };
  const publishReadings = (readings: readonly Reading[]): Promise<void> => {
    if (!client || !up || !client.connected) return Promise.reject(new Error("MQTT sink not connected"));
    if (readings.length === 0) return Promise.resolve();
    if (queue.length > MAX_QUEUED_CALLS)
      return Promise.reject(new Error("MQTT sink not keeping up: earlier publishes still unsent"));
    return new Promise<void>((resolve, reject) => {
      const call: Call = {
        readings,
        next: 0,
        left: readings.length,
        deadline: Date.now() + timeoutMs,
        done: false,
        resolve,
        reject,
        acked: (error) => {
          inFlight--;
          if (error) settle(call, error);
          else if (--call.left === 0) settle(call);
          schedulePump();
        },
      };
      queue.push(call);
      pump();
    });
  };

  /** One message per batch, all in flight at once (one connection keeps them in order). */
  const publishBatches = async (batches: readonly Batch[]): Promise<void> => {
    if (!client || !up || !client.connected) throw new Error("MQTT sink not connected");
    if (batches.length === 1) {
      await send(batchTopic(batches[0]!), batches[0]!.payload);
      return;
    }
    await Promise.all(batches.map((b) => send(batchTopic(b), b.payload)));
  };

  /**
   * A replay page (up to 20,000 readings) as batches, written {@link REPLAY_SLICE} readings at a
   * time with a yield to the event loop between, the batches that filled up sent as they do: in
   * one go, a 2,000-reading page held the loop for 10–20 ms (replay loop lag p99 23 ms,
   * bench:starvation mqtt-batch). The batches are those of the whole page at once (one Batcher,
   * the partly filled ones closed at the end). Calls are made in turn, so their messages still go
   * out in call order; a call resolves once all of its batches are acknowledged.
   */
  let making: Promise<void> = Promise.resolve();
  const publishSliced = (readings: readonly Reading[]): Promise<void> => {
    const sent: Promise<void>[] = [];
    const out = (batches: Batch[]) => {
      if (batches.length === 0) return;
      const p = publishBatches(batches);
      p.catch(() => undefined); // awaited below, with the others
      sent.push(p);
    };
    const turn = making.then(async () => {
      const batcher = new Batcher(policy);
      for (let i = 0; i < readings.length; i += REPLAY_SLICE) {
        if (i > 0) {
          await new Promise<void>((r) => setImmediate(r));
          // Lost meanwhile: the call fails as a whole (what went out is sent again, at least once).
          if (!client?.connected || !up) throw new Error("MQTT sink not connected");
        }
        batcher.add(readings.slice(i, i + REPLAY_SLICE), 0);
        // Only the batches that filled up: no group has lingered long enough at -Infinity.
        out(batcher.take(Number.NEGATIVE_INFINITY));
      }
      out(batcher.take(0, true));
    });
    making = turn.catch(() => undefined);
    return turn.then(() => Promise.all(sent)).then(() => undefined);
  };

  return {
    ...(perReading
      ? {}
      : {
          batching: {
            policy,
            publish: (batches: readonly Batch[]) => publishBatches(batches),
            // The socket's queue empty: every payload written so far reached the kernel. (QoS 0
            // publishes resolve once queued; acknowledged QoS 1 ones have left the client's store.)
            released: () => client?.stream !== undefined && client.stream.writableLength === 0,
          },
        }),
    // Calls go out in call order (one FIFO, one connection), however many are unacknowledged.
    pipelined: true,

    async start() {
      const will = { topic: statusTopic, payload: Buffer.from("offline"), qos: 1 as const, retain: true };
      const options = await mqttOptions(config, `tagbridge-${gateway}-${ctx.sink}`, will, log);
      // mqtt.js calls its debug logger a dozen times per message, formatting arguments even when
      // disabled: 5 % of a replay's CPU. Kept when DEBUG asks for it.
      if (!/mqttjs/.test(process.env.DEBUG ?? "")) options.log = () => {};
      client = await connectMqtt(config.url, options, log, {
        onUp: () => {
          client!
            .publishAsync(statusTopic, "online", { qos: 1, retain: true })
            .catch((e: Error) => log.warn({ err: e.message }, "north MQTT status publish failed"));
          lastError = undefined;
          up = true;
          log.info({ sink: ctx.sink, url: config.url }, "north MQTT sink connected");
          report();
          schedulePump();
        },
        onDown: (reason) => {
          if (up) log.warn({ sink: ctx.sink, reason }, "north MQTT sink disconnected");
          lastError = reason;
          up = false;
          failUnstarted(reason);
          report();
        },
      });
    },

    async publish(readings) {
      if (perReading) await publishReadings(readings);
      else await publishSliced(readings);
    },

    async stop() {
      if (closed) return;
      closed = true;
      up = false;
      failUnstarted("MQTT sink closed");
      const c = client;
      if (!c) return;
      if (c.connected) {
        await Promise.race([
          c.publishAsync(statusTopic, "offline", { qos: 1, retain: true }).catch(() => undefined),
          new Promise((r) => setTimeout(r, 1_000)),
        ]);
      }
      await c.endAsync(true);
    },
  };
}
