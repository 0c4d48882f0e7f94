/**
 * Starvation benchmark (issue 16): does acquisition keep its rate while a north sink's
 * store-and-forward buffer fills, overflows and replays?
 *
 * The real service (`startService`: config file, simulator devices, history on, HTTP API, one
 * north sink) runs in this process at a planned rate (BENCH_RATES, default 2000 readings/s:
 * 20 devices × 10 points polled every 100 ms, `publish: always`; 20000: 40 × 50). Its broker
 * (nats-server with JetStream, or Mosquitto, each on a free port) is stopped for BENCH_OUTAGE_S
 * (default 60) and started again; the replay lasts until the buffer is empty. Per phase (steady
 * before the outage, outage, replay):
 * - acquisition: readings whose `receivedAt` falls in the phase (counted by a bus consumer, so a
 *   late delivery still counts in the second it was acquired), as a share of planned; also the
 *   worst single second;
 * - event-loop lag p99 (perf_hooks monitorEventLoopDelay, 10 ms resolution);
 * - API p99: GET /api/v1/readings/latest through the real HTTP service, one request every 100 ms;
 * - for the replay: its duration and drain rate (backlog at reconnect plus what was produced
 *   meanwhile, over the duration) as a multiple of the production rate.
 * Cases (BENCH_CASES): `nats`, `mqtt` (QoS 1, payload: reading), and `drop-oldest` (the MQTT sink
 * with a 1 MiB buffer, so it overflows during the outage); `mqtt-batch` (QoS 1, payload: batch with
 * the default batch policy) is not in the default set, for contrast with one message per reading.
 *
 * `npm run bench:starvation [-- --write]`; BENCH_ROUNDS (3) rounds, medians reported.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import type { SinkStatus } from "../src/north/index.js";
import { type Service, startService } from "../src/service.js";
import { startBroker } from "../test/peers/mqtt-broker.js";
import { startNats } from "../test/peers/nats.js";
import { Acquired, f, median, pct, simulatorDevicesYaml } from "./acquisition.js";
import { writeResults } from "./results.js";

const OUTAGE_S = Number(process.env.BENCH_OUTAGE_S ?? 60);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RATES = (process.env.BENCH_RATES ?? "2000").split(",").map(Number);
const CASES = (process.env.BENCH_CASES ?? "nats,mqtt,drop-oldest").split(",");
const STEADY_S = Number(process.env.BENCH_STEADY_S ?? 5);
const POLL_MS = 100;
const WRITE = process.argv.includes("--write");

type Case = "nats" | "mqtt" | "drop-oldest" | "mqtt-batch";

interface Phase {
  name: string;
  start: number;
  end: number;
  lag: ReturnType<typeof monitorEventLoopDelay>;
  api: number[];
  apiFailed: number;
}

function shape(rate: number): { devices: number; points: number } {
  const perPoll = (rate * POLL_MS) / 1000;
  const points = perPoll >= 1000 ? 50 : 10;
  return { devices: Math.max(1, Math.round(perPoll / points)), points };
}

function configYaml(dir: string, rate: number, sink: string): string {
  const { devices, points } = shape(rate);
  const lines = [
    "version: 1",
    "gateway: bench-gw",
    `dataDir: ${dir}`,
    "http: { host: 127.0.0.1, port: 0 }",
    "auth: { anonymous: loopback-viewer }",
    "north:",
    sink,
    ...simulatorDevicesYaml(devices, points, POLL_MS),
  ];
  return `${lines.join("\n")}\n`;
}

function sinkYaml(kind: Case, url: string): string {
  if (kind === "nats")
    return `  - { type: nats, id: js, servers: ["${url}"], stream: { name: BENCH_${process.pid}_${Date.now()} } }`;
  const buffer = kind === "drop-oldest" ? ", buffer: { maxSizeMb: 1, overflow: drop-oldest }" : "";
  const payload = kind === "mqtt-batch" ? "batch" : "reading";
  return `  - { type: mqtt, id: uns, url: "${url}", payload: ${payload}, qos: "1"${buffer} }`;
}

const p99 = (xs: number[]) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!;
};

async function runCase(kind: Case, rate: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), "tb-starve-"));
  const peer =
    kind === "nats" ? await startNats({ restartable: true }) : await startBroker({ persistence: false });
  const file = join(dir, "gateway.yaml");
  writeFileSync(file, configYaml(dir, rate, sinkYaml(kind, peer.url)));
  const service: Service = await startService(file, {}, pino({ level: "silent" }));
  const acquired = new Acquired();
  service.gateway.bus.subscribe({
    name: "bench:acquired",
    capacity: 2_000_000,
    handle: (b) => acquired.add(b),
  });
  const sink = () => north(service);
  let phase: Phase | undefined;
  const phases: Phase[] = [];
  const begin = (name: string) => {
    if (phase) {
      phase.end = Date.now();
      phase.lag.disable();
    }
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    phase = { name, start: Date.now(), end: 0, lag, api: [], apiFailed: 0 };
    phases.push(phase);
  };
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const t0 = performance.now();
      const at = phase;
      try {
        const res = await fetch(`${service.url}/api/v1/readings/latest`, {
          signal: AbortSignal.timeout(5_000),
        });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(String(res.status));
        at?.api.push(performance.now() - t0);
      } catch {
        if (at) at.apiFailed++;
      }
      await sleep(100);
    }
  })();
  try {
    for (let i = 0; i < 200 && !(await sink()).connected; i++) await sleep(50);
    await sleep(1_000);
    begin("steady");
    await sleep(STEADY_S * 1000);
    begin("outage");
    const down = peer.restart(OUTAGE_S * 1000);
    await down;
    // The broker is back; the sink reconnects and replays.
    for (let i = 0; i < 400 && !(await sink()).connected; i++) await sleep(25);
    const backlog = (await sink()).buffered;
    begin("replay");
    const cap = Date.now() + Math.max(60_000, OUTAGE_S * 4_000);
    while (Date.now() < cap && (await sink()).buffered > 0) await sleep(100);
    const replayEnd = Date.now();
    begin("after");
    await sleep(1_000);
    phase!.end = Date.now();
    phase!.lag.disable();
    polling = false;
    await poller;
    await sleep(200); // let the counting consumer catch up with the last slots
    const out: Record<string, number> = {};
    const planned = (ms: number) => (rate * ms) / 1000;
    for (const p of phases.slice(0, 3)) {
      const { n, ms } = acquired.slotsOf(p.start, p.end);
      out[`${p.name}.acq`] = n / planned(ms);
      out[`${p.name}.worst1s`] = acquired.worstSecond(p.start, p.end) / planned(1000);
      out[`${p.name}.lagP99`] = p.lag.percentile(99) / 1e6;
      out[`${p.name}.apiP99`] = p99(p.api);
      out[`${p.name}.apiFailed`] = p.apiFailed;
    }
    const replay = phases[2]!;
    const replayMs = replayEnd - replay.start;
    out["replay.s"] = replayMs / 1000;
    out["replay.drainX"] =
      replayMs > 0 ? (backlog + acquired.between(replay.start, replayEnd)) / (replayMs / 1000) / rate : 0;
    const s = await sink();
    out.dropped = s.dropped;
    out.backlog = backlog;
    return out;
  } finally {
    polling = false;
    await poller;
    await service.close();
    await peer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The sink's status, as GET /api/v1/north serves it (injected: no socket, loopback caller). */
async function north(service: Service): Promise<SinkStatus> {
  const res = await service.app.inject("/api/v1/north");
  const s = (res.json() as SinkStatus[])[0];
  if (!s) throw new Error(`no north sink status (${res.statusCode})`);
  return s;
}

const machine = `${cpus()[0]?.model.trim() ?? "?"}, ${cpus().length} cores (nproc), Node ${process.version}`;
const rows: Record<string, unknown>[] = [];
for (const rate of RATES) {
  for (const kind of CASES as Case[]) {
    const runs: Record<string, number>[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const out = await runCase(kind, rate);
      runs.push(out);
      process.stdout.write(`${kind} @${rate}/s round ${r + 1}: ${JSON.stringify(out)}\n`);
    }
    const m = (k: string) => median(runs.map((x) => x[k] ?? Number.NaN));
    const range = (k: string) => {
      const xs = runs.map((x) => x[k] ?? Number.NaN);
      return `${pct(Math.min(...xs))}–${pct(Math.max(...xs))}`;
    };
    for (const ph of ["steady", "outage", "replay"])
      rows.push({
        case: kind,
        "planned/s": rate,
        phase: ph === "replay" ? `replay (${f(m("replay.s"))} s, ${f(m("replay.drainX"))}× production)` : ph,
        "acquisition of planned": pct(m(`${ph}.acq`)),
        "(rounds)": range(`${ph}.acq`),
        "worst second": pct(m(`${ph}.worst1s`)),
        "loop lag p99 ms": f(m(`${ph}.lagP99`)),
        "API p99 ms": f(m(`${ph}.apiP99`)),
        "API failed": f(m(`${ph}.apiFailed`), 0),
      });
    process.stdout.write(`${kind}: dropped ${m("dropped")}, backlog at reconnect ${m("backlog")}\n`);
  }
}
console.table(rows);
if (WRITE)
  await writeResults(
    "starvation",
    `${machine}; outage ${OUTAGE_S} s`,
    rows,
    ROUNDS,
    "Acquisition counts readings by their `receivedAt`; loop lag is perf_hooks monitorEventLoopDelay; API is GET /api/v1/readings/latest every 100 ms through the real HTTP service.",
  );
