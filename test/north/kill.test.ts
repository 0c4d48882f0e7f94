/**
 * kill -9 during a broker outage: the gateway side runs in a child process (tsx) and is SIGKILLed
 * while its MQTT sink buffers; after a restart on the same data directory the buffered readings
 * arrive. Loss is bounded by the buffer's sync interval; the will marks the gateway offline.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Broker, startBroker } from "../peers/mqtt-broker.js";
import { Collector, until } from "./helpers.js";

const SYNC_MS = 250;
let broker: Broker;
let dataDir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  broker = await startBroker({ persistence: true });
  dataDir = mkdtempSync(join(tmpdir(), "tb-north-kill-"));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Line {
  t: number;
  gen: number;
  connected: boolean;
  buffered: number;
}

function gateway(fromSeq: number, periodMs: number): { child: ChildProcess; lines: Line[] } {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "child-gateway.ts")], {
    env: {
      ...process.env,
      BROKER_URL: broker.url,
      DATA_DIR: dataDir,
      FROM_SEQ: String(fromSeq),
      PERIOD_MS: String(periodMs),
      SYNC_MS: String(SYNC_MS),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const lines: Line[] = [];
  createInterface({ input: child.stdout! }).on("line", (l) => {
    if (l.startsWith("{")) lines.push(JSON.parse(l) as Line);
  });
  return { child, lines };
}

it("kill -9 during an outage: after restart the buffered readings arrive", async () => {
  const collector = await Collector.open(broker.url);
  try {
    const a = gateway(1, 10); // 20 readings every 10 ms
    expect(await until(() => a.lines.at(-1)?.connected === true && a.lines.at(-1)!.gen > 500, 15_000)).toBe(
      true,
    );
    const outage = broker.restart(4_000);
    expect(await until(() => a.lines.at(-1)?.connected === false, 5_000)).toBe(true);
    const genAtOutage = a.lines.at(-1)!.gen;
    expect(await until(() => (a.lines.at(-1)?.buffered ?? 0) > 2_000, 5_000)).toBe(true);
    const killedAt = Date.now();
    a.child.kill("SIGKILL");
    await new Promise((r) => a.child.once("exit", r));
    // Everything handed to the bus more than one sync interval (plus slack) before the kill must survive.
    const safe = Math.max(...a.lines.filter((l) => l.t <= killedAt - SYNC_MS - 100).map((l) => l.gen));
    const lastGen = a.lines.at(-1)!.gen;
    expect(safe).toBeGreaterThan(genAtOutage + 1_000);
    await outage;
    expect(await until(() => collector.status.at(-1) === "offline", 10_000)).toBe(true); // the will

    const b = gateway(lastGen + 1_000, 0); // no new data: only the backlog
    const got = () => collector.seqs();
    expect(await until(() => [...Array(safe).keys()].every((i) => got().has(i + 1)), 20_000)).toBe(true);
    const lost = lastGen - [...got()].filter((s) => s <= lastGen).length;
    expect(lost).toBeLessThanOrEqual(lastGen - safe);
    expect(await until(() => b.lines.at(-1)?.buffered === 0, 10_000)).toBe(true);
    b.child.kill("SIGTERM");
    await new Promise((r) => b.child.once("exit", r));
  } finally {
    await collector.close();
  }
}, 60_000);
