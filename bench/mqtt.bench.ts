/**
 * MQTT ingest benchmark: small JSON messages at QoS 0 through Mosquitto, into the mqtt adapter and
 * the core (ReadingBuilder → bus → a consumer), against the broker's pass-through rate to a plain
 * mqtt.js subscriber in the same run, same broker, same publisher. Reports messages/s, the share of
 * the pass-through rate, process CPU, and p50/p99 latency from publish to the bus consumer.
 *
 * `npx tsx bench/mqtt.bench.ts [--write]`; BENCH_MESSAGES and BENCH_ROUNDS override the sizes.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { pino } from "pino";
import mqttAdapter from "../adapters/mqtt/index.js";
import { Gateway } from "../src/core/gateway.js";
import { AdapterRegistry } from "../src/core/registry.js";
import type { AdapterDefinition } from "../src/sdk/adapter.js";
import { startBroker } from "../test/peers/mqtt-broker.js";
import { writeResults } from "./results.js";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DEVICES = 100;
const BURST = 500;
const now = () => performance.timeOrigin + performance.now();

interface Run {
  rate: number;
  received: number;
  cpuPct: number;
  p50: number;
  p99: number;
}

/**
 * The publisher runs in a child process, so its CPU is not in the figures and it does not share the
 * event loop with the subscriber under test. It publishes in bursts and waits for the socket to drain.
 */
const PUBLISHER = `
import mqtt from "mqtt";
const [url, n, devices, burst] = process.argv.slice(1);
const pub = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
const now = () => performance.timeOrigin + performance.now();
for (let i = 0; i < +n; i += +burst) {
  for (let j = i; j < Math.min(i + +burst, +n); j++)
    pub.publish("bench/dev" + (j % +devices) + "/telemetry", '{"t":' + now() + ',"n":' + j + ',"temp":21.5,"ok":true}', { qos: 0 });
  await new Promise((r) => setImmediate(r));
}
await pub.endAsync();
`;

function publishAll(url: string): Promise<void> {
  const child = spawn(
    process.execPath,
    ["--input-type=module", "-e", PUBLISHER, url, String(MESSAGES), String(DEVICES), String(BURST)],
    {
      stdio: "inherit",
    },
  );
  return new Promise((resolve, reject) =>
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`publisher exit ${code}`)))),
  );
}

/** Waits until `count()` reaches MESSAGES or nothing arrived for 2 s (QoS 0 may drop). */
async function drained(count: () => number): Promise<void> {
  let last = -1;
  let idleSince = Date.now();
  for (let i = 0; i < 60_000 && count() < MESSAGES; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (count() !== last) {
      last = count();
      idleSince = Date.now();
    } else if (Date.now() - idleSince > 2_000) return;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function measure(
  url: string,
  subscribe: (onValue: (sentAt: number) => void) => Promise<() => Promise<void>>,
): Promise<Run> {
  const latencies: number[] = [];
  let firstAt = 0;
  let lastAt = 0;
  let cpu0 = process.cpuUsage();
  const stop = await subscribe((sentAt) => {
    lastAt = now();
    if (latencies.length === 0) {
      firstAt = lastAt;
      cpu0 = process.cpuUsage();
    }
    latencies.push(lastAt - sentAt);
  });
  await publishAll(url);
  await drained(() => latencies.length);
  const cpu = process.cpuUsage(cpu0);
  // The window runs from the first to the last message received, so the publisher's start-up is not in it.
  const elapsed = lastAt - firstAt;
  await stop();
  latencies.sort((a, b) => a - b);
  return {
    rate: ((latencies.length - 1) / elapsed) * 1000,
    received: latencies.length,
    cpuPct: ((cpu.user + cpu.system) / 1000 / elapsed) * 100,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}

const bare = (url: string) => async (onValue: (t: number) => void) => {
  const sub = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  sub.on("message", (_topic, payload) => onValue(JSON.parse(payload.toString()).t));
  await sub.subscribeAsync("bench/+/telemetry", { qos: 0 });
  return async () => void (await sub.endAsync());
};

const throughGateway = (url: string) => async (onValue: (t: number) => void) => {
  const dataDir = mkdtempSync(join(tmpdir(), "tb-mqtt-bench-"));
  const registry = new AdapterRegistry([mqttAdapter as unknown as AdapterDefinition]);
  const device = {
    id: "bench",
    type: "mqtt",
    connection: { url, qos: 0 },
    points: [{ id: "t", type: "float64", topic: "bench/{dev}/telemetry", path: "$.t", publish: "always" }],
  };
  const gateway = new Gateway({
    id: "bench-gw",
    dataDir,
    devices: [device as never],
    registry,
    log: pino({ level: "silent" }),
  });
  gateway.bus.subscribe({
    name: "bench",
    capacity: 1_000_000,
    handle: (batch) => {
      for (const r of batch) onValue(r.value as number);
    },
  });
  gateway.start();
  for (let i = 0; i < 500 && gateway.devices()[0]?.state !== "connected"; i++)
    await new Promise((r) => setTimeout(r, 10));
  return async () => {
    await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const broker = await startBroker();
  const runs: Record<"bare" | "gateway", Run[]> = { bare: [], gateway: [] };
  try {
    for (let r = 0; r < ROUNDS; r++) {
      runs.bare.push(await measure(broker.url, bare(broker.url)));
      runs.gateway.push(await measure(broker.url, throughGateway(broker.url)));
    }
  } finally {
    await broker.stop();
  }
  const row = (name: string, rs: Run[], base?: number) => {
    const rate = median(rs.map((x) => x.rate));
    return {
      path: name,
      "messages/s": Math.round(rate),
      "of pass-through": base ? `${Math.round((rate / base) * 100)} %` : "100 %",
      "received/sent": `${median(rs.map((x) => x.received))}/${MESSAGES}`,
      "process CPU": `${Math.round(median(rs.map((x) => x.cpuPct)))} %`,
      "p50 ms": median(rs.map((x) => x.p50)).toFixed(1),
      "p99 ms": median(rs.map((x) => x.p99)).toFixed(1),
    };
  };
  const baseRow = row(`mosquitto (${broker.kind}) → bare mqtt.js subscriber`, runs.bare);
  const rows = [
    baseRow,
    row("mosquitto → mqtt adapter → core → bus consumer", runs.gateway, baseRow["messages/s"]),
  ];
  console.table(rows);
  const machine = `${cpus()[0]?.model ?? "unknown CPU"} ×${cpus().length}, Node ${process.version}; ${MESSAGES} QoS 0 JSON messages/round from one mqtt.js publisher in a child process (not in the CPU figure); rate over first to last message received; latency is at saturation (queueing included)`;
  if (process.argv.includes("--write")) await writeResults("mqtt", machine, rows, ROUNDS);
}

await main();
