/**
 * Issue 19, configuration part: the test plant of bench/scale-config.ts at 1,000, 10,000 and
 * 100,000 points (simulator devices of 100 float64 points, 5 s interval, history on). Per size and
 * round, in child processes of the built CLI (`npm run build` first):
 * - `tagbridge validate`: wall time and peak RSS (`/usr/bin/time`);
 * - `tagbridge run`: time from spawn to the first 200 of /healthz, RSS then, and RSS and peak RSS
 *   `SETTLE_MS` later (from /proc).
 * Figures are medians of `ROUNDS` rounds (sizes alternate within a round).
 *
 * `npm run bench:scale` prints the table; `-- --write` also rewrites its section of bench/RESULTS.md.
 * Environment: SCALE_POINTS=1000,10000 to choose sizes (0: a gateway without devices), SCALE_ROUNDS=3,
 * SCALE_SETTLE_MS=10000, SCALE_BUILDS=before=/other/tree/dist/src/cli/main.js,after=dist/src/cli/main.js
 * to measure several builds in the same run, alternating within each round (a baseline measured on
 * the same machine at the same time).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { f, median } from "./acquisition.js";
import { writeResults } from "./results.js";
import { scaleConfigYaml } from "./scale-config.js";

const OWN_CLI = new URL("../dist/src/cli/main.js", import.meta.url).pathname;
/** Builds measured: label and CLI entry; this tree's build alone by default. */
const BUILDS = (process.env.SCALE_BUILDS ?? `this=${OWN_CLI}`).split(",").map((b) => {
  const [label, cli] = b.includes("=") ? (b.split("=", 2) as [string, string]) : ["this", b];
  return { label, cli };
});
const SIZES = (process.env.SCALE_POINTS ?? "1000,10000,100000").split(",").map(Number);
const ROUNDS = Number(process.env.SCALE_ROUNDS ?? 3);
const SETTLE_MS = Number(process.env.SCALE_SETTLE_MS ?? 10_000);
const START_TIMEOUT_MS = 180_000;

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });

/** `tagbridge validate file`: seconds and peak RSS in MB. */
function validate(cli: string, file: string): { s: number; peakMB: number } {
  const run = spawnSync("/usr/bin/time", ["-f", "TIME %e %M", process.execPath, cli, "validate", file], {
    encoding: "utf8",
  });
  const m = /TIME ([\d.]+) (\d+)/.exec(run.stderr);
  if (run.status !== 0 || !m) throw new Error(`validate failed (${run.status}): ${run.stdout}${run.stderr}`);
  return { s: Number(m[1]), peakMB: Number(m[2]) / 1024 };
}

/** RSS and peak RSS (VmHWM) of a process, in MB. */
function memory(pid: number): { rssMB: number; peakMB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return { rssMB: kb("VmRSS") / 1024, peakMB: kb("VmHWM") / 1024 };
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });

/** Starts `tagbridge run`; waits for /healthz; measures; stops it. */
async function start(cli: string, file: string, port: number) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, "run", "--config", file, "--log-level", "warn"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  try {
    const deadline = t0 + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`run exited ${child.exitCode}: ${stderr}`);
      if (performance.now() > deadline) throw new Error(`no /healthz within ${START_TIMEOUT_MS} ms`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50)); // a poll interval, not a wait for a result
    }
    const startS = (performance.now() - t0) / 1000;
    const atStart = memory(child.pid!);
    await new Promise((r) => setTimeout(r, SETTLE_MS)); // the settling time is what is measured
    const settled = memory(child.pid!);
    return { startS, rssAtStartMB: atStart.rssMB, rssSettledMB: settled.rssMB, peakMB: settled.peakMB };
  } finally {
    child.kill("SIGTERM");
    await exited(child);
  }
}

for (const { cli } of BUILDS)
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
const dir = mkdtempSync(join(tmpdir(), "tagbridge-scale-"));
const samples = new Map<string, ReturnType<typeof validate>[]>();
const starts = new Map<string, Awaited<ReturnType<typeof start>>[]>();
const key = (label: string, points: number) => `${label}/${points}`;
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const points of SIZES) {
      for (const { label, cli } of BUILDS) {
        const port = await freePort();
        const file = join(dir, `plant-${points}.yaml`);
        rmSync(join(dir, `data-${points}`), { recursive: true, force: true });
        writeFileSync(file, scaleConfigYaml(points, { port, dataDir: `./data-${points}` }));
        const v = validate(cli, file);
        const s = await start(cli, file, port);
        const k = key(label, points);
        samples.set(k, [...(samples.get(k) ?? []), v]);
        starts.set(k, [...(starts.get(k) ?? []), s]);
        console.error(
          `round ${round + 1} ${label} ${points}: validate ${v.s} s ${f(v.peakMB, 0)} MB; start ${f(s.startS, 2)} s, RSS ${f(s.rssAtStartMB, 0)} → ${f(s.rssSettledMB, 0)} MB, peak ${f(s.peakMB, 0)} MB`,
        );
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const med = <T>(xs: T[], key: (x: T) => number) => median(xs.map(key));
const rows = SIZES.flatMap((points) =>
  BUILDS.map(({ label }) => {
    const v = samples.get(key(label, points)) ?? [];
    const s = starts.get(key(label, points)) ?? [];
    return {
      ...(BUILDS.length > 1 ? { build: label } : {}),
      points,
      "YAML MB": f(scaleConfigYaml(points).length / 1e6, 1),
      "validate s": f(
        med(v, (x) => x.s),
        2,
      ),
      "validate peak MB": f(
        med(v, (x) => x.peakMB),
        0,
      ),
      "start to /healthz s": f(
        med(s, (x) => x.startS),
        2,
      ),
      "RSS at /healthz MB": f(
        med(s, (x) => x.rssAtStartMB),
        0,
      ),
      [`RSS ${SETTLE_MS / 1000} s later MB`]: f(
        med(s, (x) => x.rssSettledMB),
        0,
      ),
      "run peak MB": f(
        med(s, (x) => x.peakMB),
        0,
      ),
    };
  }),
);
console.table(rows);
const machine = `${cpus()[0]?.model.trim() ?? "unknown CPU"}, ${cpus().length} cores, Node ${process.version}`;
console.log(
  `${machine}; load average at the end ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
if (process.argv.includes("--write")) await writeResults("scale", machine, rows, ROUNDS);
