/**
 * OPC UA subscription benchmark (issue 4, item 10): 20,000 monitored items changing at 1 Hz on a
 * node-opcua server, read (1) by the gateway — opcua adapter → core → a bus consumer that checks
 * every point's counter sequence — and (2) in the same run by a bare node-opcua client that only
 * counts notifications (and keeps each item's last value, to count losses the same way).
 *
 * Three processes, so each figure is one process's alone: the server (bench/opcua-server.ts) sets
 * every counter to the tick number once a second; the gateway and the bare client each run in a
 * child of this script, one after the other, against the same server, with the same subscription
 * layout and monitoring parameters. Per side: time from start to the first value of every item,
 * values/s over a fixed window, CPU and RSS over that window, and lost changes: gaps in a point's
 * sequence plus, after the server is paused, changes that never arrived (last value behind the
 * server's last tick), plus points that never reported.
 *
 * Security mode None on 127.0.0.1 (the adapter's opt-in `security: none`): this measures the data
 * path, not the crypto.
 *
 * `node --import tsx bench/opcua.bench.ts [--write]`. Environment: BENCH_ITEMS (20000),
 * BENCH_WINDOW_S (20), BENCH_ROUNDS (2), BENCH_SAMPLING_MS (500; 0 = exception-based),
 * BENCH_QUEUE (2), BENCH_CPU_PROF (a directory: write CPU profiles of the
 * sides there), BENCH_ITEMS_PER_SUB (the adapter's maxItemsPerSubscription, 2000).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeResults } from "./results.js";

const ITEMS = Number(process.env.BENCH_ITEMS ?? 20_000);
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SAMPLING_MS = Number(process.env.BENCH_SAMPLING_MS ?? 500);
const QUEUE = Number(process.env.BENCH_QUEUE ?? 2);
// node-opcua's server allows 10 subscriptions per session by default: 20,000 items need 2,000 a piece.
const ITEMS_PER_SUB = Number(process.env.BENCH_ITEMS_PER_SUB ?? 2000);
const PUBLISHING_MS = 1000;
const SUBSCRIBE_LIMIT_MS = 120_000;
const DRAIN_MS = 5_000;
const MAX_TICK = 100_000;

type Role = "gateway" | "bare";

/** What a side reports once its window is over and the server is paused. */
interface Result {
  role: Role;
  subscribeMs: number;
  windowMs: number;
  inWindow: number;
  /** Values/s between the first and the last tick complete in the window; 0 when fewer than two were. */
  cycleRate: number;
  cycles: number;
  cpuMs: number;
  rssMb: number;
  rssMaxMb: number;
  heapMb: number;
  liveHeapMb: number;
  gaps: number;
  behind: number;
  never: number;
  dupes: number;
  bad: number;
  dropped: number;
  subscriptions: number;
}

interface Msg {
  type: string;
  [k: string]: unknown;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const here = fileURLToPath(import.meta.url);

function spawnTs(file: string, args: string[]): ChildProcess {
  // --expose-gc: after the window a side collects garbage once to report its live heap (not timed).
  const prof = process.env.BENCH_CPU_PROF
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  return spawn(process.execPath, [...prof, "--expose-gc", "--import", "tsx", file, ...args], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
}

/** Resolves with the next IPC message of `type` from `child`, or rejects after `ms` or on exit. */
function next(child: ChildProcess, type: string, ms: number): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no '${type}' within ${ms} ms`)), ms);
    const onMsg = (m: Msg) => m.type === type && done(undefined, m);
    const onExit = (code: number | null) => done(new Error(`child exited (${code}) before '${type}'`));
    function done(err?: Error, m?: Msg) {
      clearTimeout(timer);
      child.off("message", onMsg);
      child.off("exit", onExit);
      if (err) reject(err);
      else resolve(m!);
    }
    child.on("message", onMsg);
    child.on("exit", onExit);
  });
}

// ---------------------------------------------------------------------------------------------
// A side: the gateway or the bare client, in its own process.

/** Per-item bookkeeping shared by both sides: first value, gaps, last value. */
class Tracker {
  readonly last = new Float64Array(ITEMS).fill(-1);
  seen = 0;
  count = 0;
  gaps = 0;
  dupes = 0;

  /** Per tick value: how many items delivered it, and when and after how many values it was complete. */
  private readonly perTick = new Int32Array(MAX_TICK);
  readonly completedAt = new Float64Array(MAX_TICK);
  readonly countAt = new Float64Array(MAX_TICK);

  value(i: number, v: number): void {
    this.count++;
    if (v < MAX_TICK && ++this.perTick[v]! === ITEMS) {
      this.completedAt[v] = performance.now();
      this.countAt[v] = this.count;
    }
    const prev = this.last[i]!;
    if (prev < 0) this.seen++;
    else if (v > prev + 1) this.gaps += v - prev - 1;
    else if (v <= prev) this.dupes++;
    this.last[i] = v;
  }

  /** Changes up to `tick` that never arrived, and items that never reported. */
  tail(tick: number): { behind: number; never: number } {
    let behind = 0;
    let never = 0;
    for (const v of this.last) {
      if (v < 0) never++;
      else if (v < tick) behind += tick - v;
    }
    return { behind, never };
  }

  caughtUp(tick: number): boolean {
    for (const v of this.last) if (v < tick) return false;
    return true;
  }
}

interface Side {
  start(onValue: (i: number, v: number) => void): Promise<void>;
  stats(): { bad: number; dropped: number; subscriptions: number };
  stop(): Promise<void>;
}

async function gatewaySide(endpointUrl: string): Promise<Side> {
  const { pino } = await import("pino");
  const { Gateway } = await import("../src/core/gateway.js");
  const { AdapterRegistry } = await import("../src/core/registry.js");
  const dataDir = mkdtempSync(join(tmpdir(), "tb-opcua-bench-gw-"));
  const device = {
    id: "bench",
    type: "opcua",
    connection: {
      endpointUrl,
      security: "none",
      publishingIntervalMs: PUBLISHING_MS,
      maxItemsPerSubscription: ITEMS_PER_SUB,
      connectTimeoutMs: 60_000,
    },
    points: Array.from({ length: ITEMS }, (_, i) => ({
      id: `c${i}`,
      type: "uint32",
      address: `ns=1;s=c${i}`,
      samplingIntervalMs: SAMPLING_MS,
      queueSize: QUEUE,
    })),
  };
  const gateway = new Gateway({
    id: "bench-gw",
    dataDir,
    devices: [device as never],
    registry: new AdapterRegistry(),
    log: pino({ level: process.env.BENCH_LOG ?? "silent" }),
  });
  let bad = 0;
  return {
    async start(onValue) {
      gateway.bus.subscribe({
        name: "bench",
        capacity: 200_000,
        handle: (batch) => {
          for (const r of batch)
            if (r.quality === "good" && typeof r.value === "number")
              onValue(Number(r.point.slice(1)), r.value);
            else bad++;
        },
      });
      gateway.start();
    },
    stats: () => ({
      bad,
      dropped: gateway.bus.consumers()[0]?.dropped ?? 0,
      subscriptions: (gateway.plan("bench") as { subscriptions: unknown[] }).subscriptions.length,
    }),
    async stop() {
      await gateway.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function bareSide(endpointUrl: string): Promise<Side> {
  const ua = await import("node-opcua");
  const pkiDir = mkdtempSync(join(tmpdir(), "tb-opcua-bench-bare-"));
  const clientCertificateManager = new ua.OPCUACertificateManager({ rootFolder: pkiDir });
  const client = ua.OPCUAClient.create({
    applicationName: "bare",
    clientCertificateManager,
    endpointMustExist: false,
    securityMode: ua.MessageSecurityMode.None,
    securityPolicy: ua.SecurityPolicy.None,
    connectionStrategy: { maxRetry: 0 },
  });
  let subscriptions = 0;
  return {
    async start(onValue) {
      await client.connect(endpointUrl);
      const session = await client.createSession();
      // The adapter's layout: ITEMS_PER_SUB items per subscription, one create call each.
      for (let first = 0; first < ITEMS; first += ITEMS_PER_SUB) {
        const sub = await session.createSubscription2({
          requestedPublishingInterval: PUBLISHING_MS,
          requestedMaxKeepAliveCount: 10,
          requestedLifetimeCount: 60,
          maxNotificationsPerPublish: 0,
          publishingEnabled: true,
          priority: 1,
        });
        subscriptions++;
        const n = Math.min(ITEMS_PER_SUB, ITEMS - first);
        const items = Array.from({ length: n }, (_, k) => ({
          nodeId: `ns=1;s=c${first + k}`,
          attributeId: ua.AttributeIds.Value,
        }));
        const group = await ua.ClientMonitoredItemGroup.create(
          sub,
          items,
          { samplingInterval: SAMPLING_MS, queueSize: QUEUE, discardOldest: true },
          ua.TimestampsToReturn.Both,
        );
        group.on("changed", (_item, dv, k) => onValue(first + k, dv.value.value as number));
      }
    },
    stats: () => ({ bad: 0, dropped: 0, subscriptions }),
    async stop() {
      await client.disconnect().catch(() => undefined);
      await clientCertificateManager.dispose().catch(() => undefined);
      rmSync(pkiDir, { recursive: true, force: true });
    },
  };
}

async function runSide(role: Role, endpointUrl: string): Promise<void> {
  const send = (m: Msg) => process.send?.(m);
  const side = role === "gateway" ? await gatewaySide(endpointUrl) : await bareSide(endpointUrl);
  const t = new Tracker();
  const t0 = performance.now();
  await side.start((i, v) => t.value(i, v));
  while (t.seen < ITEMS && performance.now() - t0 < SUBSCRIBE_LIMIT_MS) await sleep(20);
  const subscribeMs = performance.now() - t0;
  if (t.seen < ITEMS) console.error(`${role}: only ${t.seen}/${ITEMS} items reported within the limit`);

  await sleep(2_000); // let the first publish cycles after the initial values settle
  // Values come in one burst per publish. Start the window in a quiet gap between bursts (if there
  // is one within 3 s), so that a window of whole seconds holds whole publish cycles.
  for (let c = t.count, quiet = 0, i = 0; quiet < 150 && i < 150; i++) {
    await sleep(20);
    quiet = t.count === c ? quiet + 20 : 0;
    c = t.count;
  }
  const count0 = t.count;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  let rssMax = 0;
  while (performance.now() - w0 < WINDOW_S * 1000) {
    rssMax = Math.max(rssMax, process.memoryUsage.rss());
    await sleep(250);
  }
  const w1 = performance.now();
  const windowMs = w1 - w0;
  // The rate between the first and the last tick every item delivered inside the window: whole
  // publish cycles, so it does not depend on where the window cuts a burst.
  let k0 = -1;
  let k1 = -1;
  for (let k = 0; k < MAX_TICK; k++) {
    const at = t.completedAt[k]!;
    if (at < w0 || at > w1) continue;
    if (k0 < 0) k0 = k;
    k1 = k;
  }
  const cycleRate =
    k1 > k0 ? ((t.countAt[k1]! - t.countAt[k0]!) / (t.completedAt[k1]! - t.completedAt[k0]!)) * 1000 : 0;
  const cpu = process.cpuUsage(cpu0);
  const inWindow = t.count - count0;
  const mem = process.memoryUsage();
  (globalThis as { gc?: () => void }).gc?.();
  const liveHeapMb = process.memoryUsage().heapUsed / 2 ** 20;

  send({ type: "window-end" });
  const final = await new Promise<number>((resolve) =>
    process.once("message", (m: Msg) => resolve(m.tick as number)),
  );
  const d0 = performance.now();
  while (!t.caughtUp(final) && performance.now() - d0 < DRAIN_MS) await sleep(50);
  const result: Result = {
    role,
    subscribeMs,
    windowMs,
    inWindow,
    cycleRate,
    cycles: Math.max(0, k1 - k0),
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssMb: mem.rss / 2 ** 20,
    rssMaxMb: Math.max(rssMax, mem.rss) / 2 ** 20,
    heapMb: mem.heapUsed / 2 ** 20,
    liveHeapMb,
    gaps: t.gaps,
    dupes: t.dupes,
    ...t.tail(final),
    ...side.stats(),
  };
  await side.stop();
  send({ type: "result", result });
  process.disconnect?.();
}

// ---------------------------------------------------------------------------------------------
// The orchestrator.

async function measure(server: ChildProcess, role: Role, endpointUrl: string): Promise<Result> {
  const child = spawnTs(here, ["--role", role, endpointUrl]);
  try {
    await next(child, "window-end", SUBSCRIBE_LIMIT_MS + WINDOW_S * 1000 + 30_000);
    server.send({ type: "pause" });
    const paused = await next(server, "paused", 10_000);
    child.send({ type: "final", tick: paused.tick });
    const { result } = (await next(child, "result", DRAIN_MS + 30_000)) as unknown as { result: Result };
    const serverCpuPct = ((paused.cpuMs as number) / ((paused.ticks as number) * 1000)) * 100;
    console.log(
      `${role}: ${JSON.stringify({ ...result, server: { ...paused, cpuPct: Math.round(serverCpuPct) } })}`,
    );
    serverStats.push({ cpuPct: serverCpuPct, loopMsAvg: paused.loopMsAvg as number });
    return result;
  } finally {
    if (child.exitCode === null) {
      await Promise.race([new Promise((r) => child.once("exit", r)), sleep(10_000)]);
      if (child.exitCode === null) child.kill();
    }
    server.send({ type: "resume" });
    await sleep(1_500); // the next side starts with the server ticking again
  }
}

const serverStats: { cpuPct: number; loopMsAvg: number }[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const started = performance.now();
  const pkiDir = mkdtempSync(join(tmpdir(), "tb-opcua-bench-server-"));
  // The server variables' MinimumSamplingInterval is 0, so a 0 sampling interval is exception-based.
  const server = spawnTs(fileURLToPath(new URL("./opcua-server.ts", import.meta.url)), [
    String(ITEMS),
    pkiDir,
    "0",
  ]);
  const runs: Record<Role, Result[]> = { gateway: [], bare: [] };
  try {
    const { endpointUrl } = (await next(server, "ready", 120_000)) as unknown as { endpointUrl: string };
    console.log(`server ready at ${endpointUrl} after ${Math.round(performance.now() - started)} ms`);
    for (let r = 0; r < ROUNDS; r++) {
      runs.gateway.push(await measure(server, "gateway", endpointUrl));
      runs.bare.push(await measure(server, "bare", endpointUrl));
    }
  } finally {
    server.send({ type: "stop" });
    await Promise.race([new Promise((r) => server.once("exit", r)), sleep(10_000)]);
    if (server.exitCode === null) server.kill();
    rmSync(pkiDir, { recursive: true, force: true });
  }
  const rate = (x: Result) => x.cycleRate || (x.inWindow / x.windowMs) * 1000;
  const bareRate = median(runs.bare.map(rate));
  const row = (name: string, rs: Result[]) => {
    const lost = rs.map((x) => x.gaps + x.behind);
    return {
      side: name,
      "values/s": Math.round(median(rs.map(rate))),
      "of bare": `${Math.round((median(rs.map(rate)) / bareRate) * 100)} %`,
      "lost changes": Math.max(...lost),
      "items never seen": Math.max(...rs.map((x) => x.never)),
      "subscribe all, s": (median(rs.map((x) => x.subscribeMs)) / 1000).toFixed(1),
      "CPU %": Math.round(median(rs.map((x) => (x.cpuMs / x.windowMs) * 100))),
      "CPU µs/value": median(rs.map((x) => (x.cpuMs * 1000) / x.inWindow)).toFixed(1),
      "RSS MB": Math.round(median(rs.map((x) => x.rssMaxMb))),
    };
  };
  const rows = [
    row("bare node-opcua client (counts values)", runs.bare),
    row("opcua adapter → core → bus consumer", runs.gateway),
  ];
  console.table(rows);
  console.log(`total ${Math.round((performance.now() - started) / 1000)} s`);
  const [b, g] = rows as [ReturnType<typeof row>, ReturnType<typeof row>];
  const ratio = g["values/s"] / b["values/s"];
  const lost = g["lost changes"] + g["items never seen"];
  const met = lost === 0 && ratio >= 0.9;
  const n = ITEMS.toLocaleString("en");
  const notes = [
    `${n} UInt32 counters on a node-opcua server in its own process, each set to the tick number once a second (server: ${Math.round(median(serverStats.map((x) => x.cpuPct)))} % CPU, ${Math.round(median(serverStats.map((x) => x.loopMsAvg)))} ms per update of all ${n}), read with security None on 127.0.0.1 (the adapter's opt-in \`security: none\`): this measures the data path, not the crypto.`,
    `The gateway side is the real \`Gateway\` (opcua adapter → core → a bus consumer) in its own process; the bare side, in the same run, is a node-opcua client with the same subscriptions and monitoring parameters that only counts values and keeps each item's last one. A lost change is a gap in an item's counter, a value still behind the server's last tick once the server is paused and the side drained, or an item that never reported.`,
    `values/s runs between the first and the last tick that every item delivered inside the ${WINDOW_S} s window (whole publish cycles); CPU and RSS are the side's process over the window; "subscribe all" is from start to the first value of every item (the gateway's includes creating its certificate, GetEndpoints and reading the ${n} nodes' attributes).`,
    `Goal (zero loss, ≥ 90 % of the bare client's rate): ${met ? "met" : "not met"} — ${lost} lost changes, ${Math.round(ratio * 100)} % of the bare rate. The server sets the rate here (${n} changes/s); the gateway's extra cost shows in CPU: ${g["CPU µs/value"]} µs per value against ${b["CPU µs/value"]} for the bare client.`,
  ].join("\n\n");
  console.log(notes);
  const machine = `${cpus()[0]?.model ?? "unknown CPU"} ×${cpus().length}, Node ${process.version}; ${ITEMS} UInt32 items changing at 1 Hz on a node-opcua server in a child process (not in the CPU figure), security None on 127.0.0.1, publishing ${PUBLISHING_MS} ms, sampling ${SAMPLING_MS} ms, queue ${QUEUE}, ${ITEMS_PER_SUB} items per subscription; ${WINDOW_S} s window; the gateway and the bare client run one after the other, each in its own process`;
  if (process.argv.includes("--write")) await writeResults("opcua", machine, rows, ROUNDS, notes);
}

const roleAt = process.argv.indexOf("--role");
if (roleAt >= 0) await runSide(process.argv[roleAt + 1] as Role, process.argv[roleAt + 2]!);
else await main();
