/**
 * An MQTT demo peer: an embedded aedes broker on 127.0.0.1, a publisher of simulated sensor JSON
 * (`demo/line1/{press-1,press-2}/telemetry` every second, plus raw `demo/line1/oven/temperature`),
 * and a simulated Sparkplug B edge node `DemoGroup/edge-1` with device `filler` (NBIRTH/DBIRTH with
 * aliases, DDATA with seq, answering Rebirth NCMDs and setting `Speed SP` from DCMDs). For
 * `tagbridge demo` and tests; not a production broker.
 */
import type { Server } from "node:net";
import { Aedes } from "aedes";
import { createServer } from "aedes-server-factory";
import mqtt from "mqtt";
import { decodePayload, encodePayload, type MetricIn } from "../../protocols/sparkplug/payload.js";
import { buildTopic } from "../../protocols/sparkplug/topic.js";

/** A running simulator. */
export interface MqttSimulator {
  /** mqtt://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Stops the publishers and the broker. Idempotent. */
  stop(): Promise<void>;
}

/** Options of the simulator. */
export interface MqttSimulatorOptions {
  /** Port to listen on; a free one when absent or 0. */
  port?: number;
  /** Publish interval in ms; default 1000. */
  intervalMs?: number;
}

const GROUP = "DemoGroup";
const NODE = "edge-1";
const DEVICE = "filler";

/** Starts the broker and the publishers; resolves once the edge node has published its births. */
export async function startMqttSimulator(options: MqttSimulatorOptions = {}): Promise<MqttSimulator> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const url = `mqtt://127.0.0.1:${port}`;
  const sensors = await mqtt.connectAsync(url, { clientId: "tagbridge-sim-sensors", reconnectPeriod: 0 });
  const nodeTopic = (type: "NBIRTH" | "NDATA" | "NDEATH" | "NCMD") =>
    buildTopic({ group: GROUP, type, edgeNode: NODE });
  const devTopic = (type: "DBIRTH" | "DDATA" | "DCMD") =>
    buildTopic({ group: GROUP, type, edgeNode: NODE, device: DEVICE });
  const edge = await mqtt.connectAsync(url, {
    clientId: "tagbridge-sim-edge-1",
    reconnectPeriod: 0,
    will: {
      topic: nodeTopic("NDEATH"),
      payload: Buffer.from(encodePayload({ metrics: [{ name: "bdSeq", type: "Int64", value: 0 }] })),
      qos: 1,
      retain: false,
    },
  });

  let seq = 0;
  let tick = 0;
  let speedSp = 120;
  const next = () => {
    const s = seq;
    seq = (seq + 1) % 256;
    return s;
  };
  const fillerMetrics = (withNames: boolean): MetricIn[] => {
    const now = Date.now();
    const m = (name: string, alias: number, type: MetricIn["type"], value: unknown): MetricIn =>
      withNames ? { name, alias, type, value, timestamp: now } : { alias, type, value, timestamp: now };
    return [
      m("Bottles", 1, "UInt64", 1_000 + tick * 3),
      m("Line/Speed", 2, "Double", Math.round((speedSp + 5 * Math.sin(tick / 5)) * 10) / 10),
      m("Running", 3, "Boolean", tick % 30 < 25),
      m("Speed SP", 4, "Double", speedSp),
    ];
  };
  const publish = (topic: string, payload: Uint8Array | string) =>
    (topic.startsWith("spBv1.0") ? edge : sensors).publishAsync(topic, Buffer.from(payload), { qos: 0 }).then(
      () => undefined,
      () => undefined,
    );
  const births = async () => {
    seq = 0;
    const now = Date.now();
    await publish(
      nodeTopic("NBIRTH"),
      encodePayload({
        timestamp: now,
        seq: next(),
        metrics: [
          { name: "bdSeq", type: "Int64", value: 0 },
          { name: "Node Control/Rebirth", type: "Boolean", value: false },
        ],
      }),
    );
    await publish(
      devTopic("DBIRTH"),
      encodePayload({ timestamp: now, seq: next(), metrics: fillerMetrics(true) }),
    );
  };

  edge.on("message", (topic, payload) => {
    const d = decodePayload(payload);
    if (!d.ok) return;
    if (
      topic === nodeTopic("NCMD") &&
      d.payload.metrics.some((x) => x.name === "Node Control/Rebirth" && x.value === true)
    )
      void births();
    if (topic === devTopic("DCMD"))
      for (const x of d.payload.metrics)
        if (x.name === "Speed SP" && typeof x.value === "number") speedSp = x.value;
  });
  await edge.subscribeAsync([nodeTopic("NCMD"), devTopic("DCMD")], { qos: 0 });
  await births();

  const timer = setInterval(() => {
    tick++;
    const now = new Date().toISOString();
    for (const [i, press] of ["press-1", "press-2"].entries()) {
      const body = {
        ts: now,
        temperature: Math.round((60 + 10 * i + 3 * Math.sin(tick / 10 + i)) * 100) / 100,
        pressure: Math.round((200 + 20 * Math.cos(tick / 7 + i)) * 10) / 10,
        state: tick % 20 < 17 ? "running" : "idle",
        quality: "good",
      };
      void publish(`demo/line1/${press}/telemetry`, JSON.stringify(body));
    }
    void publish("demo/line1/oven/temperature", String(Math.round((180 + 2 * Math.sin(tick / 4)) * 10) / 10));
    void publish(
      devTopic("DDATA"),
      encodePayload({ timestamp: Date.now(), seq: next(), metrics: fillerMetrics(false) }),
    );
  }, options.intervalMs ?? 1_000);
  timer.unref();

  let stopped = false;
  return {
    url,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await Promise.allSettled([sensors.endAsync(true), edge.endAsync(true)]);
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
