/** History as the service starts it: bus → consumer → worker, per-point retention from the devices, reload, close. */
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { historyDir, openStore, historyReading as r } from "../../test/helpers/history.js";
import { createBus } from "../core/bus.js";
import type { PointConfig } from "../sdk/point.js";
import { HISTORY_CONSUMER } from "./consumer.js";
import { type History, startHistory } from "./index.js";
import type { HistoryResult } from "./types.js";

const log = pino({ level: "silent" });
const T0 = Date.now() - 60_000;
let dir: ReturnType<typeof historyDir>;
let history: History | undefined;

beforeEach(() => {
  dir = historyDir();
});
afterEach(async () => {
  await history?.close();
  history = undefined;
  dir.cleanup();
});

const values = (res: HistoryResult) => (res.kind === "samples" ? res.samples.map((s) => s.value) : []);
const point = (id: string, retentionMs?: number) =>
  ({ id, ...(retentionMs === undefined ? {} : { history: { retentionMs } }) }) as PointConfig<
    Record<string, unknown>
  >;
const dataDir = () => dir.file("");

describe("startHistory", () => {
  it("is off with mode: off", async () => {
    expect(await startHistory({ mode: "off" }, dataDir(), createBus(), [], log)).toBeUndefined();
  });

  it("stores what the bus carries, skips retention-0 points, and takes new retention on setDevices", async () => {
    const bus = createBus();
    const devices = [{ id: "d", points: [point("p"), point("off", 0)] }];
    const h = await startHistory({ file: "h.sqlite" }, dataDir(), bus, devices, log);
    history = h;
    if (!h) return expect.fail("history off");
    bus.publish([r("d", "p", T0, 1), r("d", "off", T0, 2)]);
    await vi.waitFor(async () => expect(values(await h.query("d", "p", {}))).toEqual([1]));
    expect(values(await h.query("d", "off", {}))).toEqual([]);
    expect(bus.consumers().find((c) => c.name === HISTORY_CONSUMER)).toMatchObject({
      delivered: 2,
      errors: 0,
    });

    // After a reload `p` keeps nothing: not stored any more (main side), and swept (worker side).
    h.setDevices([{ id: "d", points: [point("p", 0), point("off", 0)] }]);
    bus.publish([r("d", "p", T0 + 1, 3)]);
    await vi.waitFor(() => expect(bus.consumers()[0]?.delivered).toBe(3));
    expect(await h.sweep()).toEqual({ byAge: 1, bySize: 0 });
    expect(values(await h.query("d", "p", {}))).toEqual([]);
    expect(await h.stats()).toMatchObject({ rows: 0, appended: 1, deletedByAge: 1 });
  });

  it("close unsubscribes, lets the append in flight finish and closes the file", async () => {
    const bus = createBus();
    const h = await startHistory({ file: "h.sqlite", maxBatch: 5_000 }, dataDir(), bus, [], log);
    history = h;
    bus.publish(Array.from({ length: 5_000 }, (_, i) => r("d", "p", T0 + i, i)));
    // The consumer drains on the next turn: wait until its batch is posted to the worker.
    await vi.waitFor(() => expect(bus.consumers()[0]?.queued).toBe(0));
    await h?.close();
    history = undefined;
    expect(bus.consumers()).toEqual([]);
    const store = openStore(dir.file("h.sqlite"));
    expect(store.stats().rows).toBe(5_000);
    store.close();
  });

  it("rejects when the file cannot be opened", async () => {
    const bus = createBus();
    await expect(startHistory({ file: "/dev/null/x.sqlite" }, dataDir(), bus, [], log)).rejects.toThrow(
      /EEXIST|ENOTDIR/,
    );
    expect(bus.consumers()).toEqual([]);
  });
});
