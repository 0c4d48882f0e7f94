/**
 * History store benchmark. Appends: `HistoryStore.append` in batches of 1,000 readings (ts parsing,
 * value encoding, series lookup, one transaction per batch) against a baseline in the same run: a
 * bare better-sqlite3 prepared-insert loop into the same table layout and pragmas, with the row
 * values precomputed, one transaction per 1,000 rows: the floor any SQLite history pays.
 * Queries: latency of one point's last 24 h at 1 Hz (86,400 rows among 864,000), downsampled to
 * 1-minute and 5-minute buckets, and the newest 1,000 raw samples.
 *
 * Prints medians of repeated rounds; `--write` also rewrites the figures in bench/RESULTS.md.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pino from "pino";
import { prepareDatabase } from "../src/history/sql.js";
import { HistoryStore } from "../src/history/store.js";
import type { Reading } from "../src/schema/reading.js";
import { writeResults } from "./results.js";

const POINTS = 1_000;
const BATCH = 1_000;
const BATCHES = 100; // 100k readings per round
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
const T0 = Date.parse("2026-01-01T00:00:00.000Z");
const DAY = 86_400_000;
const log = pino({ level: "silent" });
const dir = mkdtempSync(join(tmpdir(), "tagbridge-history-bench-"));
let files = 0;
const freshFile = () => join(dir, `h${files++}.sqlite`);
const options = { retentionMs: 30 * DAY, maxSizeMb: 100_000, sweepIntervalMs: 0 };

function readingAt(i: number, ts: number): Reading {
  const iso = new Date(ts).toISOString();
  return {
    gateway: "bench",
    device: "dev",
    point: `p${i % POINTS}`,
    value: i % 10 === 0 ? i : Math.sin(i) * 100,
    type: "float64",
    quality: "good",
    ts: iso,
    receivedAt: iso,
    protocol: "simulator",
    seq: i,
  };
}
const batches = Array.from({ length: BATCHES }, (_, b) =>
  Array.from({ length: BATCH }, (_, i) => readingAt(b * BATCH + i, T0 + b * 1_000)),
);

async function appendStore(): Promise<number> {
  const store = HistoryStore.open(freshFile(), options, log);
  const started = performance.now();
  for (const batch of batches) store.append(batch);
  const ms = performance.now() - started;
  if (store.stats().rows !== BATCH * BATCHES) throw new Error("readings missing");
  store.close();
  return ms;
}

const rows = batches.map((batch) =>
  batch.map((r, i) => [i % POINTS, Date.parse(r.ts), r.value as number, 0] as const),
);
async function baseline(): Promise<number> {
  const db = new Database(freshFile());
  prepareDatabase(db);
  const insert = db.prepare(
    "INSERT INTO samples (series, ts, num, json, quality, status) VALUES (?, ?, ?, NULL, ?, NULL)",
  );
  const tx = db.transaction((batch: (typeof rows)[number]) => {
    for (const row of batch) insert.run(row[0], row[1], row[2], row[3]);
  });
  const started = performance.now();
  for (const batch of rows) tx(batch);
  const ms = performance.now() - started;
  db.close();
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measureAppend(name: string, fn: () => Promise<number>) {
  await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) times.push(await fn());
  const ms = median(times);
  return { name, perSec: Math.round((BATCH * BATCHES) / (ms / 1000)), msMedian: (ms / BATCHES).toFixed(2) };
}

/** 10 points at 1 Hz over 24 h: 864,000 rows; the queried point has 86,400 of them. */
function dayStore(): HistoryStore {
  const store = HistoryStore.open(freshFile(), options, log);
  const batch: Reading[] = [];
  for (let s = 0; s < DAY / 1_000; s++) {
    for (let p = 0; p < 10; p++) batch.push({ ...readingAt(s * 10 + p, T0 + s * 1_000), point: `p${p}` });
    if (batch.length >= 10_000) store.append(batch.splice(0));
  }
  store.append(batch);
  return store;
}

function measureQuery(
  store: HistoryStore,
  name: string,
  q: Parameters<HistoryStore["query"]>[2],
  expect: number,
) {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS * 3; i++) {
    const started = performance.now();
    const res = store.query("dev", "p3", q);
    times.push(performance.now() - started);
    const n = res.kind === "buckets" ? res.buckets.length : res.samples.length;
    if (n !== expect) throw new Error(`${name}: ${n} results, expected ${expect}`);
  }
  const ms = median(times);
  return { name, perSec: Math.round(1000 / ms), msMedian: ms.toFixed(2) };
}

const base = await measureAppend("baseline: bare better-sqlite3 inserts, 1000/tx", baseline);
const store = await measureAppend("HistoryStore.append, batches of 1000", appendStore);
const day = dayStore();
const range = { from: T0, to: T0 + DAY - 1, limit: 10_000 };
const queries = [
  measureQuery(day, "query 24 h → 1 min buckets (1440)", { ...range, bucketMs: 60_000 }, 1_440),
  measureQuery(day, "query 24 h → 5 min buckets (288)", { ...range, bucketMs: 300_000 }, 288),
  measureQuery(
    day,
    "query raw, 1000 samples",
    { from: T0 + DAY - 1_000_000, to: T0 + DAY, limit: 1_000 },
    1_000,
  ),
];
day.close();
rmSync(dir, { recursive: true, force: true });

const out = [
  { ...base, vsBaseline: "1.00" },
  { ...store, vsBaseline: (base.perSec / store.perSec).toFixed(2) },
  ...queries.map((q) => ({ ...q, vsBaseline: "-" })),
];
const table = out.map((r) => ({
  name: r.name,
  perSec: r.perSec,
  msMedian: r.msMedian,
  vsBaseline: r.vsBaseline,
}));
console.table(table);
const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${cpus().length} cores, Node ${process.version}`;
console.log(machine);
console.log(
  "perSec: readings/s for appends, queries/s for queries; msMedian: per 1000-reading batch or per query",
);
if (process.argv.includes("--write")) await writeResults("history", machine, table, ROUNDS);
