/**
 * Replay drain ceiling (issue 16, item 5): how fast a north sink empties a backlog its durable
 * buffer already holds, with nothing else running (no acquisition, no HTTP), and where that time
 * goes. The starvation bench measures the replay under load; this one isolates the drain loop so a
 * CPU profile of it shows the sink, the buffer and the client library alone.
 *
 * Per case: a sink is started against a port nobody listens on, BENCH_N readings (20 devices × 10
 * points per "poll", as the starvation bench's 2,000/s) go through the real bus into its buffer,
 * and it is closed (committed to the file). Then the same sink starts against the real peer
 * (Mosquitto, nats-server with JetStream, each on a free port) and the time from start until the
 * buffer is empty is the drain. Cases (BENCH_CASES): `mqtt` (QoS 1, payload: reading), `nats`,
 * `mqtt-batch` (QoS 1, payload: batch, the defaults). Median of BENCH_ROUNDS.
 *
 * BENCH_PROFILE=<dir> writes a V8 CPU profile of each drain (node:inspector, the drain only) as
 * `<dir>/<case>-<round>.cpuprofile`, and prints its top self-time functions.
 *
 * `npx tsx bench/replay-drain.bench.ts`
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import { createBus } from "../src/core/bus.js";
import type { SinkConfig } from "../src/north/config.js";
import { startNorth } from "../src/north/index.js";
import type { Reading } from "../src/schema/reading.js";
import { startBroker } from "../test/peers/mqtt-broker.js";
import { startNats } from "../test/peers/nats.js";
import { freePort } from "../test/peers/process.js";

const N = Number(process.env.BENCH_N ?? 30_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CASES = (process.env.BENCH_CASES ?? "mqtt,nats,mqtt-batch").split(",");
const PROFILE = process.env.BENCH_PROFILE;
const PRODUCTION = 2_000;
const DEVICES = 20;
const POINTS = 10;
const log = pino({ level: "silent" });

function sinkOf(kind: string, url: string): SinkConfig {
  if (kind === "nats")
    return { type: "nats", id: "js", servers: [url], stream: { name: `DRAIN_${process.pid}` } } as SinkConfig;
  const payload = kind === "mqtt-batch" ? "batch" : "reading";
  return { type: "mqtt", id: "uns", url, payload, qos: "1" } as SinkConfig;
}

const DEVICE_IDS = Array.from({ length: DEVICES }, (_, d) => `d${d}`);
const POINT_IDS = Array.from({ length: POINTS }, (_, p) => `p${p}`);

/** One poll's readings, keys in the core's order. */
function poll(seq: number, at: number): Reading[] {
  const ts = new Date(at).toISOString();
  const out: Reading[] = [];
  for (const device of DEVICE_IDS)
    for (const point of POINT_IDS)
      out.push({
        gateway: "bench-gw",
        device,
        point,
        value: Math.round(Math.random() * 1e6) / 1e4,
        type: "float64",
        quality: "good",
        ts,
        receivedAt: ts,
        protocol: "simulator",
        seq: seq++,
      } as Reading);
  return out;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}

/** Fills the sink's buffer file with N readings while its server is unreachable. */
async function fill(kind: string, dataDir: string): Promise<void> {
  const dead =
    kind === "nats" ? `nats://127.0.0.1:${await freePort()}` : `mqtt://127.0.0.1:${await freePort()}`;
  const bus = createBus();
  const north = await startNorth([sinkOf(kind, dead)], { gateway: "bench-gw", dataDir, bus, log });
  const t0 = Date.now() - N / 2;
  for (let seq = 1; seq <= N; seq += DEVICES * POINTS) {
    const batch = poll(seq, t0 + seq / 2);
    for (let d = 0; d < DEVICES; d++) bus.publish(batch.slice(d * POINTS, (d + 1) * POINTS));
    if (seq % 10_000 < DEVICES * POINTS) await sleep(1);
  }
  await until(() => (north.status()[0]?.buffered ?? 0) >= N, 30_000, "buffered");
  await north.close();
}

interface Out {
  seconds: number;
  rate: number;
  cpuPct: number;
  /** Event-loop delay during the drain, ms. */
  lagP99: number;
  lagMax: number;
}

async function drain(kind: string, url: string, dataDir: string, profileAs?: string): Promise<Out> {
  const session = profileAs ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 200 });
    await session.post("Profiler.start");
  }
  const bus = createBus();
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const north = await startNorth([sinkOf(kind, url)], { gateway: "bench-gw", dataDir, bus, log });
  const start = north.status()[0]!.buffered;
  if (start < N) throw new Error(`buffer holds ${start}, expected ${N}`);
  await until(() => north.status()[0]!.buffered === 0, 120_000, "drained");
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  lag.disable();
  if (session && profileAs) {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(profileAs, JSON.stringify(profile));
    printTop(profile);
    session.disconnect();
  }
  await north.close();
  return {
    seconds,
    rate: start / seconds,
    cpuPct: ((used.user + used.system) / 1e6 / seconds) * 100,
    lagP99: lag.percentile(99) / 1e6,
    lagMax: lag.max / 1e6,
  };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** Top self-time functions, and self time grouped by package/file. */
function printTop(profile: { nodes: ProfileNode[]; samples?: number[] }): void {
  const total = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const file = url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/main\//, "") || "(native)";
    const fn = `${functionName || "(anon)"} ${file}:${lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + hits);
    const group = file.startsWith("@") ? file.split("/").slice(0, 2).join("/") : file.split("/")[0]!;
    byFile.set(group === "src" ? file : group, (byFile.get(group === "src" ? file : group) ?? 0) + hits);
  }
  const show = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, h]) => `  ${((h / total) * 100).toFixed(1).padStart(5)} %  ${name}`)
      .join("\n");
  process.stdout.write(`self time by function:\n${show(byFn, 25)}\nby file/package:\n${show(byFile, 15)}\n`);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

process.stdout.write(
  `${cpus()[0]?.model.trim() ?? "?"}, ${cpus().length} cores, Node ${process.version}; backlog ${N}\n`,
);
if (PROFILE) mkdirSync(PROFILE, { recursive: true });
for (const kind of CASES) {
  const peer = kind === "nats" ? await startNats() : await startBroker({ persistence: false });
  const runs: Out[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const dataDir = mkdtempSync(join(tmpdir(), "tb-drain-"));
      try {
        await fill(kind, dataDir);
        const out = await drain(
          kind,
          peer.url,
          dataDir,
          PROFILE && join(PROFILE, `${kind}-${r + 1}.cpuprofile`),
        );
        runs.push(out);
        process.stdout.write(
          `${kind} round ${r + 1}: ${out.seconds.toFixed(2)} s, ${Math.round(out.rate)} readings/s ` +
            `(${(out.rate / PRODUCTION).toFixed(1)}× 2,000/s), CPU ${Math.round(out.cpuPct)} % of a core, ` +
            `loop lag p99 ${out.lagP99.toFixed(1)} ms, max ${out.lagMax.toFixed(1)} ms\n`,
        );
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    await peer.stop();
  }
  const rate = median(runs.map((x) => x.rate));
  process.stdout.write(
    `${kind}: median ${Math.round(rate)} readings/s = ${(rate / PRODUCTION).toFixed(1)}× 2,000/s, ` +
      `CPU ${Math.round(median(runs.map((x) => x.cpuPct)))} %, loop lag p99 ${median(runs.map((x) => x.lagP99)).toFixed(1)} ms\n`,
  );
}
// A NATS sink closed before it ever connected may leave its client's reconnect loop running.
process.exit(0);
