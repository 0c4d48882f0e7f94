/**
 * History retention sweep benchmark (issue 16, item 5d): does acquisition keep its rate while
 * retention deletes 10 million rows?
 *
 * A template file holds BENCH_ROWS (10 M) readings of 100 series, all 30 days old (past the 7-day
 * retention), built once with SQL (a recursive CTE, 1 M rows per transaction, the index built
 * after). Each round copies it, runs a real Gateway (simulator devices polled every 100 ms,
 * `publish: always`: 20 devices × 10 points = 2,000 readings/s planned) whose bus feeds history,
 * lets it run for BENCH_STEADY_S, then sweeps and waits for the sweep to end. Two sides, in the
 * same run, alternating:
 * - `main thread` (before): `HistoryStore` used directly, as the service did before the worker:
 *   appends and the sweep's chunked deletes (5,000 rows, a yield between chunks) and its final
 *   `incremental_vacuum` + WAL checkpoint run on the main event loop;
 * - `worker` (after): `startHistory`, the store in its worker thread, as the service runs it now.
 * Per phase (steady before the sweep; the sweep): acquisition = readings whose `receivedAt` falls
 * in the phase over planned, its worst second; event-loop lag p99 and max (perf_hooks
 * monitorEventLoopDelay, 10 ms resolution as in the starvation bench); timer share = ticks of a
 * 10 ms interval that ran, over the phase's length / 10 ms. Also the sweep's duration and rows
 * deleted. Medians of BENCH_ROUNDS (3) rounds per side.
 *
 * `npm run bench:history-sweep [-- --write]` (--write rewrites its section of bench/RESULTS.md).
 */
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { pino } from "pino";
import { loadGatewayConfig } from "../src/config/manager.js";
import { Gateway } from "../src/core/gateway.js";
import { AdapterRegistry } from "../src/core/registry.js";
import { attachHistory } from "../src/history/consumer.js";
import { startHistory } from "../src/history/index.js";
import type { SweepResult } from "../src/history/retention.js";
import { prepareDatabase } from "../src/history/sql.js";
import { HistoryStore } from "../src/history/store.js";
import { Acquired, f, median, pct, simulatorDevicesYaml } from "./acquisition.js";
import { writeResults } from "./results.js";

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const STEADY_S = Number(process.env.BENCH_STEADY_S ?? 5);
const DEVICES = 20;
const POINTS = 10;
const POLL_MS = 100;
const RATE = (DEVICES * POINTS * 1000) / POLL_MS;
const DAY = 86_400_000;
const SERIES = 100;
const WRITE = process.argv.includes("--write");
const log = pino({ level: "silent" });
const dir = mkdtempSync(join(tmpdir(), "tb-history-sweep-"));

/** 10 M rows, 30 days old, 100 series, in SQLite's own loop: about a minute, not an hour of JS. */
function buildTemplate(file: string): number {
  const started = performance.now();
  const db = new Database(file);
  prepareDatabase(db);
  const series = db.prepare("INSERT INTO series (device, point) VALUES ('old', ?)");
  db.transaction(() => {
    for (let i = 0; i < SERIES; i++) series.run(`p${i}`);
  })();
  db.exec("DROP INDEX samples_series_ts");
  const old = Date.now() - 30 * DAY;
  const fill = db.prepare(`INSERT INTO samples (series, ts, num, json, quality, status)
    WITH RECURSIVE c(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM c WHERE x + 1 < ?)
    SELECT (x % ${SERIES}) + 1, ? + x / ${SERIES}, (x % 1000) * 0.25, NULL, 0, NULL FROM c`);
  const STEP = 1_000_000;
  for (let from = 0; from < ROWS; from += STEP) fill.run(from, Math.min(ROWS, from + STEP), old);
  db.exec("CREATE INDEX samples_series_ts ON samples (series, ts, quality, num)");
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return (performance.now() - started) / 1000;
}

function configYaml(): string {
  const lines = ["version: 1", "gateway: bench-gw", `dataDir: ${dir}`, "history: { mode: off }"];
  lines.push(...simulatorDevicesYaml(DEVICES, POINTS, POLL_MS));
  return `${lines.join("\n")}\n`;
}

/** Lag histogram and 10 ms timer ticks of one phase. */
function phase() {
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const start = Date.now();
  return {
    start,
    end(): { start: number; end: number; lagP99: number; lagMax: number; tickShare: number } {
      const end = Date.now();
      clearInterval(timer);
      lag.disable();
      return {
        start,
        end,
        lagP99: lag.percentile(99) / 1e6,
        lagMax: lag.max / 1e6,
        tickShare: ticks / ((end - start) / 10),
      };
    },
  };
}

type Side = "main thread" | "worker";

async function round(side: Side, template: string, n: number): Promise<Record<string, number>> {
  const file = join(dir, `round-${n}.sqlite`);
  copyFileSync(template, file);
  const configFile = join(dir, "gateway.yaml");
  writeFileSync(configFile, configYaml());
  const registry = new AdapterRegistry();
  const config = await loadGatewayConfig(configFile, registry);
  const gateway = new Gateway({ id: config.gateway, dataDir: dir, devices: config.devices, registry, log });
  const acquired = new Acquired();
  gateway.bus.subscribe({ name: "bench:acquired", capacity: 2_000_000, handle: (b) => acquired.add(b) });
  const storeOptions = { retentionMs: 7 * DAY, maxSizeMb: 1_000_000, sweepIntervalMs: 0 };
  let sweep: () => Promise<SweepResult>;
  let close: () => Promise<void>;
  if (side === "main thread") {
    const store = HistoryStore.open(file, storeOptions, log);
    const attached = attachHistory(gateway.bus, store, { pointRetention: () => undefined }, log);
    sweep = () => store.sweep();
    close = async () => {
      attached.close();
      store.close();
    };
  } else {
    const history = await startHistory(
      { file, retentionMs: storeOptions.retentionMs, maxSizeMb: 1_000_000, sweepIntervalMs: 24 * 3_600_000 },
      dir,
      gateway.bus,
      config.devices,
      log,
    );
    if (!history) throw new Error("history off");
    sweep = () => history.sweep();
    close = () => history.close();
  }
  try {
    gateway.start();
    await sleep(2_000); // devices connected, polls settled
    const steadyPhase = phase();
    await sleep(STEADY_S * 1000);
    const steady = steadyPhase.end();
    const sweepPhase = phase();
    const result = await sweep();
    const swept = sweepPhase.end();
    await sleep(300); // the counting consumer catches up with the last slots
    if (result.byAge < ROWS) throw new Error(`${side}: the sweep deleted ${result.byAge} of ${ROWS} rows`);
    return {
      "steady.acq": acquired.share(steady.start, steady.end, RATE),
      "steady.lagP99": steady.lagP99,
      "steady.tick": steady.tickShare,
      "sweep.s": (swept.end - swept.start) / 1000,
      "sweep.rows": result.byAge,
      "sweep.acq": acquired.share(swept.start, swept.end, RATE),
      "sweep.worst1s": acquired.worstSecond(swept.start, swept.end) / RATE,
      "sweep.lagP99": swept.lagP99,
      "sweep.lagMax": swept.lagMax,
      "sweep.tick": swept.tickShare,
    };
  } finally {
    await gateway.stop();
    await close();
    rmSync(file, { force: true });
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
  }
}

const template = join(dir, "template.sqlite");
try {
  const buildS = buildTemplate(template);
  const mb = statSync(template).size / 1024 / 1024;
  process.stdout.write(`template: ${ROWS} rows, ${mb.toFixed(0)} MiB, built in ${buildS.toFixed(1)} s\n`);
  const runs: Record<Side, Record<string, number>[]> = { "main thread": [], worker: [] };
  const load: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const side of ["main thread", "worker"] as const) {
      load.push(loadavg()[0]!);
      const out = await round(side, template, r);
      runs[side].push(out);
      process.stdout.write(`${side} round ${r + 1}: ${JSON.stringify(out)}\n`);
    }
  }
  const m = (side: Side, k: string) => median(runs[side].map((x) => x[k] ?? Number.NaN));
  const ratio = (k: string) => `${f(m("main thread", k) / m("worker", k))}×`;
  const rows = [
    ...(["main thread", "worker"] as const).map((side) => ({
      side: side === "main thread" ? "main thread (before)" : "worker (after)",
      "sweep s": f(m(side, "sweep.s")),
      "acquisition during sweep": pct(m(side, "sweep.acq")),
      "worst second": pct(m(side, "sweep.worst1s")),
      "10 ms ticks run": pct(m(side, "sweep.tick")),
      "loop lag p99 ms": f(m(side, "sweep.lagP99")),
      "loop lag max ms": f(m(side, "sweep.lagMax"), 0),
      "steady: acquisition / lag p99 ms": `${pct(m(side, "steady.acq"))} / ${f(m(side, "steady.lagP99"))}`,
    })),
    {
      side: "before / after",
      "sweep s": ratio("sweep.s"),
      "acquisition during sweep": "",
      "worst second": "",
      "10 ms ticks run": "",
      "loop lag p99 ms": ratio("sweep.lagP99"),
      "loop lag max ms": ratio("sweep.lagMax"),
      "steady: acquisition / lag p99 ms": "",
    },
  ];
  console.table(rows);
  const machine = `${cpus()[0]?.model.trim() ?? "?"}, ${cpus().length} cores (nproc), Node ${process.version}, load average ${load.map((x) => x.toFixed(1)).join("/")} at each round's start`;
  process.stdout.write(`${machine}\n`);
  if (WRITE)
    await writeResults(
      "history-sweep",
      machine,
      rows,
      ROUNDS,
      `${ROWS} rows (${mb.toFixed(0)} MiB file), all past retention; ${RATE} readings/s planned; sides alternate within the run.`,
    );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
