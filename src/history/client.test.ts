/** The store in its worker thread, through the client the service uses: round trips, retention, failures. */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { getPriority } from "node:os";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  captureLog,
  historyDir,
  openHistoryClient,
  openStore,
  historyReading as r,
} from "../../test/helpers/history.js";
import { type HistoryClient, HistoryUnavailable } from "./client.js";
import type { HistoryResult } from "./types.js";

const T0 = Date.parse("2026-03-01T12:00:00.000Z");
const HOUR = 3_600_000;
let dir: ReturnType<typeof historyDir>;
let client: HistoryClient | undefined;

beforeEach(() => {
  dir = historyDir();
});
afterEach(async () => {
  await client?.close();
  client = undefined;
  dir.cleanup();
});

const values = (res: HistoryResult) => (res.kind === "samples" ? res.samples.map((s) => s.value) : []);

describe("HistoryClient", () => {
  it("appends, queries, downsamples and counts through the worker", async () => {
    client = await openHistoryClient(dir.file());
    const readings = Array.from({ length: 10 }, (_, i) => r("d", "p", T0 + i * 1000, i));
    expect(await client.append(readings)).toBe(10);
    expect(await client.append([])).toBe(0);
    expect(values(await client.query("d", "p", { from: T0 + 2000, to: T0 + 4000 }))).toEqual([2, 3, 4]);
    const buckets = await client.query("d", "p", { bucketMs: 5000 });
    expect(buckets).toMatchObject({
      kind: "buckets",
      buckets: [
        { count: 5, avg: 2 },
        { count: 5, avg: 7 },
      ],
    });
    // The store's own argument check crosses the thread as the same error class.
    await expect(client.query("d", "p", { bucketMs: 0 })).rejects.toBeInstanceOf(RangeError);
    expect(await client.stats()).toMatchObject({ rows: 10, series: 1, appended: 10, errors: 0 });
  });

  it("sweeps in the worker with the per-point retention it was last sent", async () => {
    client = await openHistoryClient(dir.file(), {
      store: { retentionMs: 10 * HOUR, maxSizeMb: 512, sweepIntervalMs: 0 },
    });
    const now = Date.now();
    const ages = [5 * HOUR, 2 * HOUR, 0];
    for (const point of ["a", "b"])
      await client.append(ages.map((age) => r("d", point, now - age, age / HOUR)));
    expect(await client.sweep()).toEqual({ byAge: 0, bySize: 0 });
    client.setRetention(new Map([["d\u0000a", 3 * HOUR]]));
    expect(await client.sweep()).toEqual({ byAge: 1, bySize: 0 });
    client.setRetention(new Map([["d\u0000b", 0]]));
    expect(await client.sweep()).toEqual({ byAge: 3, bySize: 0 }); // b: keep nothing; a: global again
    expect(values(await client.query("d", "a"))).toEqual([2, 0]);
    expect(values(await client.query("d", "b"))).toEqual([]);
  });

  it("relays the worker's log lines to the main logger", async () => {
    const { log, lines } = captureLog();
    client = await openHistoryClient(dir.file(), {}, log);
    expect(await client.append([{ ...r("d", "p", T0, 1), ts: "not a time" }])).toBe(0);
    await vi.waitFor(() => expect(lines().some((l) => l.msg === "history append failed")).toBe(true));
    const line = lines().find((l) => l.msg === "history append failed")!;
    expect(line).toMatchObject({ level: 40, readings: 1, err: { message: expect.any(String) } });
    expect((await client.stats()).errors).toBe(1);
  });

  it("a dead worker: appends counted, queries refused, nothing thrown; restarted on the same file", async () => {
    const { log, lines } = captureLog();
    client = await openHistoryClient(dir.file(), { restartMs: 200 }, log);
    await client.append([r("d", "p", T0, 1)]);
    await client.kill();
    expect(client.running).toBe(false);
    expect(await client.append([r("d", "p", T0 + 1, 2)])).toBe(0);
    expect(await client.append([r("d", "p", T0 + 2, 3)])).toBe(0);
    await expect(client.query("d", "p")).rejects.toBeInstanceOf(HistoryUnavailable);
    await expect(client.stats()).rejects.toBeInstanceOf(HistoryUnavailable);
    client.setRetention(new Map()); // kept for the next worker, not posted to a dead one
    expect(lines().filter((l) => l.msg?.toString().startsWith("history worker exited"))).toHaveLength(1);
    // Two failed appends, one logged (rate-limited), the other counted as suppressed later.
    expect(lines().filter((l) => l.msg === "history append failed")).toHaveLength(1);

    await vi.waitFor(() => expect(client!.running).toBe(true), { timeout: 10_000 });
    expect(values(await client.query("d", "p"))).toEqual([1]);
    // The exit and the two lost batches are this side's errors; the new worker counts from 0.
    expect(await client.stats()).toMatchObject({ rows: 1, errors: 3 });
    expect(await client.append([r("d", "p", T0 + 3, 4)])).toBe(1);
    expect(lines().some((l) => l.msg === "history worker running again")).toBe(true);
  });

  it("a retention map set while the worker is down reaches the restarted worker", async () => {
    client = await openHistoryClient(dir.file(), { restartMs: 100 });
    await client.append([r("d", "p", Date.now() - HOUR, 1), r("d", "q", Date.now() - HOUR, 2)]);
    await client.kill();
    client.setRetention(new Map([["d\u0000p", 0]]));
    await vi.waitFor(() => expect(client!.running).toBe(true), { timeout: 10_000 });
    expect(await client.sweep()).toEqual({ byAge: 1, bySize: 0 });
    expect(values(await client.query("d", "q"))).toEqual([2]);
  });

  it.skipIf(process.platform !== "linux")(
    "the worker thread runs at nice 10; the thread that started it keeps its priority",
    async () => {
      const niceOfThreads = () =>
        readdirSync("/proc/self/task").map((tid) => {
          const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
          return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]); // field 19: nice
        });
      const before = getPriority();
      expect(niceOfThreads().filter((n) => n === 10)).toHaveLength(0);
      client = await openHistoryClient(dir.file());
      expect(niceOfThreads().filter((n) => n === 10)).toHaveLength(1);
      expect(getPriority()).toBe(before);
    },
  );

  it("restartMs 0 leaves it down; close still works", async () => {
    client = await openHistoryClient(dir.file(), { restartMs: 0 });
    await client.kill();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(client.running).toBe(false);
    await expect(client.query("d", "p")).rejects.toBeInstanceOf(HistoryUnavailable);
    await client.close();
    await client.close();
  });

  it("close lets the append in flight finish and closes the file", async () => {
    client = await openHistoryClient(dir.file());
    const batch = Array.from({ length: 20_000 }, (_, i) => r("d", "p", T0 + i, i));
    const appended = client.append(batch);
    await client.close();
    expect(await appended).toBe(20_000);
    expect(await client.append(batch)).toBe(0); // closed: ignored, not an error
    const store = openStore(dir.file());
    expect(store.stats().rows).toBe(20_000);
    store.close();
  });

  it("open rejects when the file cannot be used, with the store's reason", async () => {
    const file = dir.file("newer.sqlite");
    const db = new Database(file);
    db.pragma("user_version = 99");
    db.close();
    await expect(openHistoryClient(file)).rejects.toThrow(/layout version 99/);
    const junk = dir.file("junk.sqlite");
    writeFileSync(junk, "not a database, just text ".repeat(100));
    await expect(openHistoryClient(junk)).rejects.toThrow(/not a database/);
  });
});
