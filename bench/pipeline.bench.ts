/**
 * Core pipeline benchmark: samples → ReadingBuilder → bus → a consumer that serializes JSON, once
 * per reading (a stream client) and once per batch (a batch sink). Baseline in the same run:
 * JSON.stringify alone on the same readings, the floor any pipeline pays.
 *
 * Prints medians of repeated rounds; `--write` also rewrites the figures in bench/RESULTS.md.
 */
import { cpus } from "node:os";
import { ReadingBuilder } from "../src/core/builder.js";
import { Bus } from "../src/core/bus.js";
import { Sequence } from "../src/core/sequence.js";
import type { Reading } from "../src/schema/reading.js";
import type { Sample } from "../src/sdk/adapter.js";
import type { PointConfig } from "../src/sdk/point.js";
import { writeResults } from "./results.js";

const POINTS = 1_000;
const CYCLES = 200; // 200k readings per round
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
const T0 = Date.parse("2026-01-01T00:00:00.000Z");

type P = PointConfig<Record<string, unknown>>;
const points: P[] = Array.from({ length: POINTS }, (_, i) => ({
  id: `p${i}`,
  type: i % 4 === 0 ? "int32" : "float64",
  unit: "°C",
  publish: "always",
  address: `sim:${i}`,
}));

function samplesFor(cycle: number): Sample[] {
  return points.map((p, i) => ({
    point: p.id,
    value: p.type === "int32" ? cycle + i : Math.sin(cycle + i) * 100,
  }));
}
const cyclesOfSamples = Array.from({ length: CYCLES }, (_, c) => samplesFor(c));
/** The same samples with the device's source time of each poll (as OPC UA and the simulator give). */
const cyclesWithSourceTs = cyclesOfSamples.map((samples, c) =>
  samples.map((s) => ({ ...s, sourceTs: T0 + c * 1000 - 5 })),
);

function builder() {
  return new ReadingBuilder("bench-gw", "bench-dev", "simulator", points, new Sequence(T0));
}

const tick = () => new Promise<void>((r) => setImmediate(r));

async function pipeline(mode: "stream" | "batch"): Promise<number> {
  const bus = new Bus();
  const b = builder();
  let bytes = 0;
  let delivered = 0;
  bus.subscribe({
    name: mode,
    capacity: POINTS * 4,
    maxBatch: POINTS,
    handle:
      mode === "stream"
        ? (batch) => {
            for (const r of batch) bytes += JSON.stringify(r).length;
            delivered += batch.length;
          }
        : (batch) => {
            bytes += JSON.stringify(batch).length;
            delivered += batch.length;
          },
  });
  const started = performance.now();
  for (let c = 0; c < CYCLES; c++) {
    const out: Reading[] = [];
    b.build(cyclesOfSamples[c]!, T0 + c * 1000, out);
    bus.publish(out);
    await tick(); // consumers drain between cycles, as they would between device polls
  }
  await tick();
  const ms = performance.now() - started;
  const dropped = bus.consumers()[0]!.dropped;
  if (delivered !== POINTS * CYCLES || dropped !== 0 || bytes === 0)
    throw new Error(`lost readings: ${delivered} delivered, ${dropped} dropped`);
  return ms;
}

async function buildOnly(cycles = cyclesOfSamples): Promise<number> {
  const b = builder();
  const started = performance.now();
  for (let c = 0; c < CYCLES; c++) b.build(cycles[c]!, T0 + c * 1000, []);
  return performance.now() - started;
}

const prebuilt: Reading[] = [];
builder().build(cyclesOfSamples[0]!, T0, prebuilt);
async function baseline(): Promise<number> {
  let bytes = 0;
  const started = performance.now();
  for (let c = 0; c < CYCLES; c++) for (const r of prebuilt) bytes += JSON.stringify(r).length;
  if (bytes === 0) throw new Error("nothing serialized");
  return performance.now() - started;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(name: string, fn: () => Promise<number>) {
  await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) times.push(await fn());
  const ms = median(times);
  const n = POINTS * CYCLES;
  return { name, readingsPerSec: Math.round(n / (ms / 1000)), nsPerReading: Math.round((ms * 1e6) / n) };
}

const results = [
  await measure("baseline: JSON.stringify per reading only", baseline),
  await measure("build only: samples → Readings", () => buildOnly()),
  await measure("build only, samples with a source time", () => buildOnly(cyclesWithSourceTs)),
  await measure("pipeline → stream consumer (JSON per reading)", () => pipeline("stream")),
  await measure("pipeline → batch serializer (JSON per batch)", () => pipeline("batch")),
];
const base = results[0]!.nsPerReading;
const rows = results.map((r) => ({ ...r, vsBaseline: (r.nsPerReading / base).toFixed(2) }));
console.table(rows);
const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, Node ${process.version}`;
console.log(machine);
if (process.argv.includes("--write")) await writeResults("pipeline", machine, rows, ROUNDS);
