/**
 * The Sparkplug B 3.0 edge node sink. One MQTT session per connection:
 * - CONNECT carries NDEATH (bdSeq) as the will; bdSeq is persisted in the sink's buffer file and
 *   advances with every new session, so NBIRTH and the will of a session always match.
 * - NBIRTH (seq 0) with `bdSeq` and `Node Control/Rebirth`; then a DBIRTH per known device with every
 *   metric known for it (names, types, aliases, values, Quality property).
 * - DDATA by exception (unchanged value and quality are not sent again) with aliases only; replayed
 *   buffer data is sent in full with `is_historical`. A new metric or a changed type re-births the
 *   device. `seq` is 0 at NBIRTH and +1 (mod 256) per message, assigned in publish order: no gaps.
 * - DDEATH when a device dies: `deviceState(device)` is disconnected/stopped (checked every second
 *   and on data), or, without that callback, a batch whose readings of the device all carry
 *   `status: "Disconnected"`. Its next good data births it again.
 * - NCMD `Node Control/Rebirth` = true: NBIRTH and all DBIRTHs again.
 * - `primaryHostId`: publishes only while spBv1.0/STATE/{id} says online (3.0 JSON payload); data is
 *   buffered meanwhile and births are sent again when the host returns.
 * - close(): publishes NDEATH, then sends DISCONNECT (so the broker drops the will: one NDEATH).
 *
 * Imported by the definition (sparkplug.ts) when the first Sparkplug sink starts, with its protobuf codec.
 */
import type { MqttClient } from "mqtt";
import { decodePayload, REBIRTH_METRIC } from "../../protocols/sparkplug/payload.js";
import { buildTopic, type MessageType } from "../../protocols/sparkplug/topic.js";
import type { Reading } from "../schema/reading.js";
import type { Sink, SinkContext } from "../sdk/sink.js";
import { connectMqtt, mqttOptions } from "./mqtt-connect.js";
import type { SparkplugSettings } from "./sparkplug-config.js";
import { encode, type MetricOut, metricTypeOf } from "./sparkplug-metrics.js";

interface Known {
  type: ReturnType<typeof metricTypeOf>;
  alias: number;
  last: Reading;
  /**
   * Whether `last` was replayed from the buffer: a birth that carries it marks it is_historical,
   * so a host does not take an old value for the current one.
   */
  historical: boolean;
  /** Value and quality last sent live, for report by exception. */
  sent?: string;
}

interface DeviceNode {
  born: boolean;
  metrics: Map<string, Known>;
}

const DEAD_STATES = new Set(["disconnected", "faulted", "stopped"]);
const MAX_METRICS = 500;
/** How long close() waits for the NDEATH's PUBACK and the DISCONNECT before dropping the socket. */
const CLOSE_TIMEOUT_MS = 2_000;

/** Creates the edge node; nothing connects before `start()`. */
export function createEdgeNode(ctx: SinkContext<SparkplugSettings>): Sink {
  const { settings: config, log } = ctx;
  const group = config.groupId;
  const node = config.edgeNodeId ?? ctx.gateway;
  const qos = config.qos === "1" ? 1 : 0;
  const topic = (type: MessageType, device?: string) =>
    buildTopic(
      device === undefined ? { group, type, edgeNode: node } : { group, type, edgeNode: node, device },
    );
  const stateTopic = config.primaryHostId ? `spBv1.0/STATE/${config.primaryHostId}` : undefined;
  const devices = new Map<string, DeviceNode>();
  let nextAlias = 2; // 0: bdSeq, 1: Node Control/Rebirth
  let client: MqttClient | undefined;
  let connected = false;
  let hostOnline = stateTopic === undefined;
  let born = false;
  let birthing: Promise<void> | undefined;
  let seq = 0;
  let bdSeq = (Number(ctx.state.get("bdSeq") ?? -1) + 1) % 256;
  let closed = false;
  let lastError: string | undefined;
  /** Publishing can succeed: connected, allowed by STATE and born. */
  const report = () =>
    ctx.setState(connected && hostOnline && born && !closed ? "connected" : "disconnected", lastError);
  let timer: NodeJS.Timeout | undefined;

  ctx.state.set("bdSeq", String(bdSeq));
  const ndeath = () =>
    Buffer.from(encode(Date.now(), undefined, [{ name: "bdSeq", type: "Int64", value: bdSeq }]));
  const nextSeq = () => {
    const s = seq;
    seq = (seq + 1) % 256;
    return s;
  };
  const send = (type: MessageType, device: string | undefined, metrics: MetricOut[]) =>
    client!.publishAsync(topic(type, device), Buffer.from(encode(Date.now(), nextSeq(), metrics)), { qos });

  const deviceOf = (id: string) => {
    let d = devices.get(id);
    if (!d) {
      d = { born: false, metrics: new Map() };
      devices.set(id, d);
    }
    return d;
  };
  /** Records a reading's metric; true when the device needs a (re)birth for it. */
  const learn = (d: DeviceNode, r: Reading, historical: boolean): boolean => {
    const type = metricTypeOf(r.type);
    const k = d.metrics.get(r.point);
    if (k && k.type === type) return false;
    d.metrics.set(r.point, { type, alias: k?.alias ?? nextAlias++, last: r, historical });
    return true;
  };
  const dbirth = (id: string, d: DeviceNode) => {
    for (const r of ctx.latest([id])) if (!d.metrics.has(r.point)) learn(d, r, false);
    const metrics = [...d.metrics].map(([name, k]) => {
      k.sent = key(k.last);
      return { name, alias: k.alias, type: k.type, reading: k.last, historical: k.historical };
    });
    d.born = true;
    return send("DBIRTH", id, metrics);
  };
  const birth = async () => {
    seq = 0;
    const sends = [
      send("NBIRTH", undefined, [
        { name: "bdSeq", alias: 0, type: "Int64", value: bdSeq },
        { name: REBIRTH_METRIC, alias: 1, type: "Boolean", value: false },
      ]),
    ];
    for (const [id, d] of devices)
      if (d.born || d.metrics.size > 0) if (!isDead(id, [])) sends.push(dbirth(id, d));
    await Promise.all(sends);
    born = true;
    log.info({ sink: ctx.sink, bdSeq, devices: devices.size }, "Sparkplug edge node born");
    report();
  };
  const rebirth = () => {
    born = false;
    report();
    if (!connected || !hostOnline || closed) return;
    birthing = birth()
      .catch((e: Error) => {
        lastError = `birth failed: ${e.message}`;
        report();
      })
      .finally(() => {
        birthing = undefined;
      });
  };
  const isDead = (id: string, batch: readonly Reading[]) => {
    const state = ctx.deviceState(id);
    if (state !== undefined) return DEAD_STATES.has(state);
    return batch.length > 0 && batch.every((r) => r.status === "Disconnected");
  };
  const ddeath = (id: string, d: DeviceNode) => {
    d.born = false;
    return send("DDEATH", id, []);
  };

  const onMessage = (t: string, payload: Buffer) => {
    if (t === stateTopic) {
      let online = false;
      try {
        online = (JSON.parse(payload.toString()) as { online?: unknown }).online === true;
      } catch {
        online = false;
      }
      if (online === hostOnline) return;
      hostOnline = online;
      log.info({ sink: ctx.sink, host: config.primaryHostId, online }, "Sparkplug primary host state");
      rebirth();
      return;
    }
    const d = decodePayload(payload);
    if (d.ok && d.payload.metrics.some((m) => m.name === REBIRTH_METRIC && m.value === true)) {
      log.info({ sink: ctx.sink }, "Sparkplug rebirth requested");
      rebirth();
    }
  };

  return {
    // publish() hands every message to the client before its first await: calls go out in call
    // order on one connection, however many are unacknowledged (seq is assigned in that order).
    pipelined: true,

    async start() {
      const will = { topic: topic("NDEATH"), payload: ndeath(), qos: 1 as const, retain: false };
      const options = await mqttOptions(config, `tagbridge-${ctx.gateway}-${ctx.sink}`, will, log);
      client = await connectMqtt(config.url, options, log, {
        onUp: () => {
          connected = true;
          lastError = undefined;
          hostOnline = stateTopic === undefined;
          const filters = [topic("NCMD"), ...(stateTopic ? [stateTopic] : [])];
          client!.subscribeAsync(filters, { qos: 1 }).catch((e: Error) => {
            lastError = `subscribe failed: ${e.message}`;
            report();
          });
          rebirth();
        },
        onDown: (reason) => {
          const wasConnected = connected;
          connected = false;
          born = false;
          lastError = reason;
          for (const d of devices.values()) d.born = false;
          if (wasConnected) {
            // A new session comes with a new bdSeq, in the will and the next NBIRTH alike.
            bdSeq = (bdSeq + 1) % 256;
            ctx.state.set("bdSeq", String(bdSeq));
            if (client?.options.will) client.options.will.payload = ndeath();
          }
          report();
        },
      });
      client.on("message", onMessage);
      // Devices the gateway knows to be dead get their DDEATH within a second, without data.
      timer = setInterval(() => {
        if (!born || !connected || !hostOnline) return;
        for (const [id, d] of devices) if (d.born && isDead(id, [])) ddeath(id, d).catch(() => undefined);
      }, 1_000);
      timer.unref();
    },

    async publish(readings, { historical }) {
      if (!client || !born || !connected || !hostOnline) throw new Error("Sparkplug edge node not online");
      const byDevice = new Map<string, Reading[]>();
      for (const r of readings) {
        const list = byDevice.get(r.device);
        if (list) list.push(r);
        else byDevice.set(r.device, [r]);
      }
      const sends: Promise<unknown>[] = [];
      for (const [id, batch] of byDevice) {
        const d = deviceOf(id);
        if (!historical && isDead(id, batch)) {
          for (const r of batch) {
            const k = d.metrics.get(r.point);
            if (k) Object.assign(k, { last: r, historical: false });
          }
          if (d.born) sends.push(ddeath(id, d));
          continue;
        }
        // A point whose type changes within the batch: what came before the change goes out with
        // the old type before the birth that declares the new one.
        for (const run of typeRuns(batch)) {
          let needBirth = !d.born;
          for (const r of run) if (learn(d, r, historical)) needBirth = true;
          if (needBirth) sends.push(dbirth(id, d));
          const metrics: MetricOut[] = [];
          for (const r of run) {
            const k = d.metrics.get(r.point)!;
            k.last = r;
            k.historical = historical;
            if (!historical) {
              const now = key(r);
              if (now === k.sent) continue;
              k.sent = now;
            }
            metrics.push({ alias: k.alias, type: k.type, reading: r, historical });
          }
          for (let i = 0; i < metrics.length; i += MAX_METRICS)
            sends.push(send("DDATA", id, metrics.slice(i, i + MAX_METRICS)));
        }
      }
      await Promise.all(sends);
    },

    async stop() {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      await birthing;
      const c = client;
      if (!c) return;
      if (!c.connected) {
        await c.endAsync(true);
        return;
      }
      // NDEATH, then a DISCONNECT: a clean disconnect makes the broker discard the will, so hosts
      // see one NDEATH, not this one and the will as well (endAsync(true) closed the socket without
      // DISCONNECT). end(false) also waits for in-flight QoS 1 messages, hence the bound.
      const orderly = (async () => {
        await c.publishAsync(topic("NDEATH"), ndeath(), { qos: 1 });
        await c.endAsync(false);
        return true;
      })().catch(() => false);
      let bound: NodeJS.Timeout | undefined;
      const done = await Promise.race([
        orderly,
        new Promise<false>((r) => {
          bound = setTimeout(() => r(false), CLOSE_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(bound);
      if (!done) {
        // A broker that does not answer: drop the socket; it publishes the will when it notices.
        log.warn({ sink: ctx.sink }, "Sparkplug NDEATH/DISCONNECT not acknowledged; connection dropped");
        c.stream?.destroy();
        await c.endAsync(true).catch(() => undefined);
      }
    },
  };
}

/** A device's readings cut where a point's type changes: in each run every point has one type. */
export function typeRuns(batch: readonly Reading[]): Reading[][] {
  const runs: Reading[][] = [];
  let run: Reading[] = [];
  let types = new Map<string, string>();
  for (const r of batch) {
    const type = metricTypeOf(r.type);
    const seen = types.get(r.point);
    if (seen !== undefined && seen !== type) {
      runs.push(run);
      run = [];
      types = new Map();
    }
    types.set(r.point, type);
    run.push(r);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

const key = (r: Reading) => `${r.quality}\u0000${JSON.stringify(r.value)}`;
