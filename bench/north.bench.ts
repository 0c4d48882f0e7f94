/**
 * North sink benchmark: an in-process source offers 100,000 readings/s (100 devices × 10 points,
 * one bus publish per device every 10 ms) for BENCH_SECONDS, into Mosquitto through the real Bus
 * and a north sink: MQTT one message per reading, MQTT batches (JSON arrays of Readings, and
 * compact Reading batches v1 with `batch.encoding: compact`), Sparkplug DDATA; and, as the
 * baseline, a bare mqtt.js loop publishing the same readings one message each (no bus, no sink);
 * and the floor: the source and bus alone, into a consumer that does nothing.
 * BENCH_PER_READING_RATE offers the one-message-per-reading modes less, for a machine where they
 * cannot sustain 100,000/s (an overloaded sink spilling to SQLite would flatter the ratios).
 * A sink that cannot keep up buffers (SQLite) and drains after the source stops; the figures cover
 * the whole run until every reading is acknowledged. QoS 0 throughout, so the sinks and the
 * baseline do comparable work. Messages and bytes are counted by a subscriber in a child process;
 * CPU is this process's (process.cpuUsage) over the run, in % of one core. Median of BENCH_ROUNDS.
 *
 * Then two ladders, each sink alone in this process and offered more and more (steps of 15 %):
 * - equal CPU (the goal): in each run the one-message-per-reading sink is offered
 *   BENCH_PER_READING_RATE before and after the batching sinks' ladders (three steps each, after a
 *   pause), and the lower of its two median CPU figures is the budget; the rate at which each batching sink's CPU equals it is
 *   interpolated between the last step under it and the first over it;
 * - saturation: the most readings/s each sink keeps up with at all.
 *
 * `npx tsx bench/north.bench.ts [--write]`. BENCH_TABLES=steady,equal-cpu,saturation (the default:
 * all three) picks tables; BENCH_MODES=<substring>[,<substring>…] runs only the matching modes of
 * the steady table; BENCH_RATE offers the steady table's modes another rate (for profiling);
 * BENCH_LADDER_RUNS sets the ladders' runs (3).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import mqtt from "mqtt";
import { pino } from "pino";
import { createBus } from "../src/core/bus.js";
import type { SinkConfig } from "../src/north/config.js";
import { type SinkStatus, startNorth } from "../src/north/index.js";
import type { Reading } from "../src/schema/reading.js";
import { startBroker } from "../test/peers/mqtt-broker.js";
import { writeResults } from "./results.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RATE = Number(process.env.BENCH_RATE ?? 100_000);
/**
 * Offered rate of the one-message-per-reading modes: RATE, like the others, unless set lower for a
 * machine where a per-reading sink cannot sustain it (an overloaded sink spills to SQLite, and that
 * would flatter the batches' ratio).
 */
const PER_READING_RATE = Number(process.env.BENCH_PER_READING_RATE ?? RATE);
const DEVICES = 100;
const POINTS = 10;
const TICK_MS = 10;
const DRAIN_LIMIT_MS = 30_000;

const SUBSCRIBER = `
import mqtt from "mqtt";
const c = await mqtt.connectAsync(process.argv[1], { reconnectPeriod: 0 });
let messages = 0, bytes = 0;
c.on("message", (t, p) => { messages++; bytes += p.length; });
await c.subscribeAsync(["bench/#", "spBv1.0/#"], { qos: 0 });
console.log("ready");
process.stdin.on("data", () => console.log(JSON.stringify({ messages, bytes })));
`;

/** A subscriber process; `count()` asks it for messages and bytes received so far. */
async function subscriber(url: string) {
  const child = spawn(process.execPath, ["--input-type=module", "-e", SUBSCRIBER, url], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const next = () => new Promise<string>((resolve) => lines.once("line", resolve));
  await next();
  return {
    async count(): Promise<{ messages: number; bytes: number }> {
      const line = next();
      child.stdin!.write("\n");
      return JSON.parse(await line) as { messages: number; bytes: number };
    },
    stop: () => child.kill("SIGTERM"),
  };
}

let seq = 1;
/** Ids made once, as a driver's config makes them (not a new string per reading). */
const DEVICE_IDS = Array.from({ length: DEVICES }, (_, d) => `dev${d}`);
const POINT_IDS = Array.from({ length: POINTS }, (_, p) => `p${p}`);
const ts = new Date().toISOString();
function deviceReadings(d: number): Reading[] {
  const out: Reading[] = [];
  for (let p = 0; p < POINTS; p++) {
    const s = seq++;
    out.push({
      gateway: "bench",
      device: DEVICE_IDS[d]!,
      point: POINT_IDS[p]!,
      value: s * 0.5,
      type: "float64",
      quality: "good",
      ts,
      receivedAt: ts,
      protocol: "simulator",
      seq: s,
    });
  }
  return out;
}

/** Offers `rate` readings/s for SECONDS: one call of `emit` per device per tick. */
async function source(emit: (batch: Reading[]) => void, rate: number): Promise<number> {
  const perTick = (rate * TICK_MS) / 1000 / POINTS; // device batches per tick
  const ticks = (SECONDS * 1000) / TICK_MS;
  const start = performance.now();
  let sent = 0;
  for (let t = 0; t < ticks; t++) {
    for (let i = 0; i < perTick; i++) {
      const batch = deviceReadings(i % DEVICES);
      emit(batch);
      sent += batch.length;
    }
    const wait = start + (t + 1) * TICK_MS - performance.now();
    await new Promise((r) => (wait > 0 ? setTimeout(r, wait) : setImmediate(r)));
  }
  return sent;
}

interface Row {
  mode: string;
  "readings/s": number;
  "messages/s": number;
  "MB/s": number;
  "CPU %": number;
  "readings/s per CPU %": number;
  "readings/message": number;
}

async function measure(
  mode: string,
  sub: Awaited<ReturnType<typeof subscriber>>,
  run: () => Promise<number>,
): Promise<Row> {
  const before = await sub.count();
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const readings = await run();
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  await new Promise((r) => setTimeout(r, 300)); // let the subscriber catch up
  const after = await sub.count();
  const cpuPct = ((used.user + used.system) / 1e6 / seconds) * 100;
  const rate = readings / seconds;
  return {
    mode,
    "readings/s": Math.round(rate),
    "messages/s": Math.round((after.messages - before.messages) / seconds),
    "MB/s": Math.round(((after.bytes - before.bytes) / seconds / 1e6) * 100) / 100,
    "CPU %": Math.round(cpuPct),
    "readings/s per CPU %": Math.round(rate / cpuPct),
    "readings/message":
      after.messages > before.messages
        ? Math.round((readings / (after.messages - before.messages)) * 10) / 10
        : 0,
  };
}

/** Runs `use` with a bus and the sink started on it (connected), then closes both. */
async function withSink<T>(
  sink: SinkConfig,
  use: (bus: ReturnType<typeof createBus>, status: () => SinkStatus) => Promise<T>,
): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), "tb-north-bench-"));
  const bus = createBus();
  const north = await startNorth([sink], { gateway: "bench", dataDir, bus, log: pino({ level: "silent" }) });
  const status = () => north.status()[0]!;
  try {
    for (let i = 0; i < 500 && !status().connected; i++) await new Promise((r) => setTimeout(r, 10));
    return await use(bus, status);
  } finally {
    await north.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function viaSink(sink: SinkConfig, rate = RATE): Promise<number> {
  return withSink(sink, async (bus, status) => {
    const sent = await source((b) => bus.publish(b), rate);
    const deadline = Date.now() + DRAIN_LIMIT_MS;
    while (Date.now() < deadline) {
      const s = status();
      if (s.published + s.dropped >= sent && s.buffered === 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    return status().published;
  });
}

/** One saturation step: did the sink keep up with `rate`, and at which CPU of this process. */
interface Step {
  rate: number;
  offered: number;
  published: number;
  cpu: number;
  keptUp: boolean;
}

/**
 * Offers `rate` for SECONDS into a sink and says whether it kept up: the source (in this process)
 * kept its rate, every reading was published within 1 s after it stopped, nothing was buffered or
 * dropped on the way. CPU is this process's over the offering window.
 */
async function step(sink: SinkConfig, rate: number): Promise<Step> {
  return withSink(sink, async (bus, status) => {
    let spilled = false;
    const watch = setInterval(() => {
      if (status().buffered > 0) spilled = true;
    }, 20);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const offered = await source((b) => bus.publish(b), rate);
    const used = process.cpuUsage(cpu0);
    const seconds = (performance.now() - t0) / 1000;
    const deadline = Date.now() + 1_000;
    while (Date.now() < deadline && status().published < offered) await new Promise((r) => setTimeout(r, 5));
    clearInterval(watch);
    const st = status();
    return {
      rate,
      offered,
      published: st.published,
      cpu: ((used.user + used.system) / 1e6 / seconds) * 100,
      // The source is in this process too: when the process is saturated it falls behind its ticks.
      keptUp: !spilled && st.dropped === 0 && st.published >= offered && offered / seconds >= rate * 0.97,
    };
  });
}

/**
 * The most readings/s a sink keeps up with in this process: offered rates up a ladder until one is
 * not kept up (then, once, the same rate again, so that a single noisy step does not end it).
 */
async function saturation(sink: SinkConfig, ladder: number[]): Promise<Step | undefined> {
  let best: Step | undefined;
  for (const rate of ladder) {
    let s = await step(sink, rate);
    if (!s.keptUp) s = await step(sink, rate);
    console.log(JSON.stringify({ saturation: sink.id, ...s, cpu: Math.round(s.cpu) }));
    if (!s.keptUp) break;
    best = s;
  }
  return best;
}

/** The in-process source and the bus into a consumer that does nothing: the floor every mode pays. */
async function sourceOnly(): Promise<number> {
  const bus = createBus();
  let got = 0;
  const c = bus.subscribe({
    name: "noop",
    capacity: 50_000,
    handle: (b) => {
      got += b.length;
    },
  });
  await source((b) => bus.publish(b), RATE);
  for (let i = 0; i < 1000 && c.stats().queued > 0; i++) await new Promise((r) => setTimeout(r, 1));
  c.close();
  return got;
}

async function bare(url: string): Promise<number> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  const sent = await source((batch) => {
    for (const r of batch) c.publish(`bench/raw/${r.device}/${r.point}`, JSON.stringify(r), { qos: 0 });
  }, PER_READING_RATE);
  await c.endAsync(); // flushes what is queued in the socket
  return sent;
}

/** Offered rates from `from` to `to` in steps of 15 %: a ladder's answer is known to within that. */
function ladder(from: number, to: number): number[] {
  const out: number[] = [];
  for (let r = from; r <= to; r *= 1.15) out.push(Math.round(r / 1000) * 1000);
  return out;
}

/** The sinks the ladders compare: one message per reading first, then the batching ones. */
function ladderSinks(url: string): [string, SinkConfig][] {
  const common = { url, qos: "0" as const };
  return [
    [
      PER_READING,
      { type: "mqtt", id: "one", payload: "reading", topic: "bench/{device}/{point}", ...common },
    ],
    [
      "mqtt sink, batches per device (defaults)",
      { type: "mqtt", id: "device", batch: { topic: "bench/{device}" }, ...common },
    ],
    [
      "mqtt sink, batches by gateway",
      { type: "mqtt", id: "gateway", batch: { by: "gateway", topic: "bench/{gateway}" }, ...common },
    ],
    [
      "mqtt sink, compact batches by gateway",
      {
        type: "mqtt",
        id: "cgateway",
        batch: { by: "gateway", topic: "bench/{gateway}", encoding: "compact" },
        ...common,
      },
    ],
  ];
}

/** The per-reading sink's CPU at PER_READING_RATE: the median of three steps after a pause. */
async function budgetSteps(sink: SinkConfig): Promise<number> {
  await new Promise((r) => setTimeout(r, 1_000));
  const cpu: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = await step(sink, PER_READING_RATE);
    if (!s.keptUp) throw new Error(`the per-reading sink did not keep up with ${PER_READING_RATE}/s`);
    cpu.push(s.cpu);
  }
  return median(cpu);
}

/**
 * A batching sink up the ladder until it does not keep up or uses more than `ceiling` % CPU (the
 * steps are kept for {@link rateAt}).
 */
async function atCpuSteps(sink: SinkConfig, ceiling: number): Promise<Step[]> {
  const steps: Step[] = [];
  for (const rate of ladder(400_000, 8_000_000)) {
    const s = await step(sink, rate);
    steps.push(s);
    if (!s.keptUp || s.cpu > ceiling) break;
  }
  return steps;
}

/**
 * The rate at which the sink of `steps` uses `budget` % CPU: interpolated between the last step
 * kept up within the budget and the next one (CPU grows about linearly with the rate);
 * conservative (the last step within it) where the next did not keep up.
 */
function rateAt(steps: readonly Step[], budget: number): number {
  let under: Step | undefined;
  for (const s of steps) {
    if (s.keptUp && s.cpu <= budget) {
      under = s;
      continue;
    }
    if (!s.keptUp || !under) return under?.rate ?? (s.rate * budget) / s.cpu;
    return under.rate + ((budget - under.cpu) * (s.rate - under.rate)) / (s.cpu - under.cpu);
  }
  return under?.rate ?? 0;
}

/**
 * Readings/s at equal CPU, the goal: in each run the per-reading sink at
 * PER_READING_RATE sets the CPU budget, and each batching sink's rate at that CPU is found.
 */
async function equalCpuTable(url: string) {
  const [first, ...batching] = ladderSinks(url);
  const perReading = first![1];
  // Warm up every sink once (the JIT), unmeasured.
  for (const [, sink] of ladderSinks(url)) await step(sink, 100_000);
  const budgets: number[] = [];
  const rates = batching.map(() => [] as number[]);
  for (let run = 0; run < LADDER_RUNS; run++) {
    // The budget: the per-reading sink's CPU before and after this run's ladders (each the median
    // of three steps, after a pause that lets the broker and the subscriber catch up), the lower
    // of the two: the lower the budget, the lower the batches' rate at it.
    const before = await budgetSteps(perReading);
    const results = [];
    for (const [, sink] of batching) results.push(await atCpuSteps(sink, before));
    const after = await budgetSteps(perReading);
    const budget = Math.min(before, after);
    budgets.push(budget);
    console.log(JSON.stringify({ equalCpu: "one", cpu: [Math.round(before), Math.round(after)] }));
    for (const [i, steps] of results.entries()) {
      const rate = rateAt(steps, budget);
      rates[i]!.push(rate);
      const trail = steps.map(
        (s) => `${Math.round(s.rate / 1000)}k:${Math.round(s.cpu)}%${s.keptUp ? "" : "!"}`,
      );
      console.log(
        JSON.stringify({
          equalCpu: batching[i]![1].id,
          budget: Math.round(budget),
          rate: Math.round(rate),
          trail,
        }),
      );
    }
  }
  const k = (x: number) => `${Math.round(x / 1000)} k`;
  const rows = [
    {
      mode: PER_READING,
      "readings/s (median)": PER_READING_RATE,
      "CPU % (median; the budget)": Math.round(median(budgets)),
      "× 1 msg/reading sink at equal CPU (median)": 1,
      "× per run": budgets.map(() => "1.0").join(", "),
    },
    ...batching.map(([mode], i) => ({
      mode,
      "readings/s (median)": Math.round(median(rates[i]!)),
      "CPU % (median; the budget)": Math.round(median(budgets)),
      "× 1 msg/reading sink at equal CPU (median)":
        Math.round((median(rates[i]!) / PER_READING_RATE) * 10) / 10,
      "× per run": rates[i]!.map((r) => (r / PER_READING_RATE).toFixed(1)).join(", "),
    })),
  ];
  console.table(rows);
  if (process.argv.includes("--write")) {
    const machine = `${cpus()[0]?.model ?? "cpu"} ×${cpus().length}, Node ${process.versions.node}, ${SECONDS} s per step, ladder steps of 15 % interpolated; ${k(PER_READING_RATE)}/s offered to the per-reading sink`;
    await writeResults("north-equal-cpu", machine, rows, LADDER_RUNS);
  }
}

/**
 * The most readings/s each sink keeps up with at all, alone in this process (about one core; the
 * CPU column says how much it used). Not at equal CPU: a per-reading sink can be held back by the
 * broker before it runs out of CPU.
 */
async function saturationTable(url: string) {
  const sinks = ladderSinks(url).map(([mode, sink], i): [string, SinkConfig, number[]] => [
    mode,
    sink,
    i === 0 ? ladder(50_000, 300_000) : ladder(400_000, 8_000_000),
  ]);
  // Runs take turns, so that a noisy stretch of the machine does not land on one sink only.
  const best = sinks.map(() => [] as Step[]);
  for (let run = 0; run < LADDER_RUNS; run++)
    for (const [i, [, sink, steps]] of sinks.entries()) {
      const b = await saturation(sink, steps);
      best[i]!.push(b ?? { rate: 0, offered: 0, published: 0, cpu: 0, keptUp: false });
    }
  const rates = best.map((runs) => runs.map((b) => b.rate));
  const rows = sinks.map(([mode], i) => {
    const ratios = rates[i]!.map((r, run) => (rates[0]![run] ? r / rates[0]![run]! : 0));
    const k = (x: number) => `${Math.round(x / 1000)} k`;
    return {
      mode,
      "most readings/s kept up with (median)": median(rates[i]!),
      "over the runs": `${k(Math.min(...rates[i]!))}–${k(Math.max(...rates[i]!))}`,
      "CPU % then": Math.round(median(best[i]!.map((b) => b.cpu))),
      "× 1 msg/reading sink (medians)": Math.round((median(rates[i]!) / median(rates[0]!)) * 10) / 10,
      "× per run": ratios.map((x) => x.toFixed(1)).join(", "),
    };
  });
  console.table(rows);
  if (process.argv.includes("--write")) {
    const machine = `${cpus()[0]?.model ?? "cpu"} ×${cpus().length}, Node ${process.versions.node}, saturation ladder in steps of 15 %, ${SECONDS} s per step`;
    await writeResults("north-saturation", machine, rows, LADDER_RUNS);
  }
}

const PER_READING = "mqtt sink, 1 msg/reading";
/** Runs of each ladder (BENCH_LADDER_RUNS); the tables show medians. */
const LADDER_RUNS = Number(process.env.BENCH_LADDER_RUNS ?? 3);
/** Which tables to make (BENCH_TABLES). */
const TABLES = new Set((process.env.BENCH_TABLES ?? "steady,equal-cpu,saturation").split(","));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const broker = await startBroker();
  const sub = await subscriber(broker.url);
  const common = { url: broker.url, qos: "0" as const };
  const modes: [string, () => Promise<number>][] = [
    ["source → bus → no-op consumer (floor, no MQTT)", sourceOnly],
    ["mqtt.js publish loop, 1 msg/reading (baseline)", () => bare(broker.url)],
    [
      PER_READING,
      () =>
        viaSink(
          {
            type: "mqtt",
            id: "one",
            payload: "reading",
            topic: "bench/{device}/{point}",
            ...common,
          },
          PER_READING_RATE,
        ),
    ],
    [
      "mqtt sink, batches per device per cycle (lingerMs 0)",
      () =>
        viaSink({
          type: "mqtt",
          id: "cycle",
          batch: { by: "device", topic: "bench/{device}", lingerMs: 0 },
          ...common,
        }),
    ],
    [
      "mqtt sink, batches per device (defaults: ≤500, ≤128 KiB, 100 ms)",
      () => viaSink({ type: "mqtt", id: "device", batch: { topic: "bench/{device}" }, ...common }),
    ],
    [
      "mqtt sink, batches by gateway (≤500, ≤128 KiB, 100 ms)",
      () =>
        viaSink({
          type: "mqtt",
          id: "gateway",
          batch: { by: "gateway", topic: "bench/{gateway}" },
          ...common,
        }),
    ],
    [
      "mqtt sink, compact batches per device (encoding: compact, defaults)",
      () =>
        viaSink({
          type: "mqtt",
          id: "cdevice",
          batch: { topic: "bench/{device}", encoding: "compact" },
          ...common,
        }),
    ],
    [
      "mqtt sink, compact batches by gateway (encoding: compact, ≤500, ≤128 KiB, 100 ms)",
      () =>
        viaSink({
          type: "mqtt",
          id: "cgateway",
          batch: { by: "gateway", topic: "bench/{gateway}", encoding: "compact" },
          ...common,
        }),
    ],
    [
      "sparkplug sink, DDATA",
      () => viaSink({ type: "sparkplug", id: "spb", groupId: "bench", edgeNodeId: "n1", ...common }),
    ],
  ];
  // Substrings of mode names, comma-separated, to run (or profile) a few.
  const only = process.env.BENCH_MODES?.split(",");
  const run = !TABLES.has("steady")
    ? []
    : only
      ? modes.filter(([name]) => only.some((o) => name.includes(o)))
      : modes;
  const results = new Map<string, Row[]>();
  try {
    // Each mode once unmeasured first: the JIT warms up on it, not on the first measured round.
    for (const [, go] of run) await go();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, go] of run) {
        const row = await measure(name, sub, go);
        results.set(name, [...(results.get(name) ?? []), row]);
        console.log(JSON.stringify(row));
      }
    }
    if (TABLES.has("equal-cpu")) await equalCpuTable(broker.url);
    if (TABLES.has("saturation")) await saturationTable(broker.url);
  } finally {
    sub.stop();
    await broker.stop();
  }
  const perReading = median((results.get(PER_READING) ?? []).map((r) => r["readings/s per CPU %"]));
  const rows = [...results.entries()].map(([mode, rs]) => {
    const out: Record<string, unknown> = { mode };
    for (const k of Object.keys(rs[0]!).filter((k) => k !== "mode"))
      out[k] = median(rs.map((r) => r[k as keyof Row] as number));
    // How many times less CPU a reading costs than with the sink's one message per reading (at
    // 100,000/s the batching modes use a few % of a core, where fixed costs weigh: the equal-CPU
    // ladder is the goal's measure).
    out["÷ CPU per reading of the 1 msg/reading sink"] =
      Math.round(((out["readings/s per CPU %"] as number) / perReading) * 10) / 10;
    return out;
  });
  if (rows.length > 0) {
    console.table(rows);
    if (process.argv.includes("--write")) {
      const machine = `${cpus()[0]?.model ?? "cpu"} ×${cpus().length}, Node ${process.versions.node}, ${broker.kind}`;
      await writeResults("north", machine, rows, ROUNDS);
    }
  }
}

await main();
