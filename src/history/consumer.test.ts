import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { historyDir, openStore, historyReading as r } from "../../test/helpers/history.js";
import { createBus } from "../core/bus.js";
import { attachHistory, HISTORY_CONSUMER } from "./consumer.js";
import type { HistoryStore } from "./store.js";
import type { HistoryResult } from "./types.js";

const T0 = Date.parse("2026-03-01T12:00:00.000Z");
const log = pino({ level: "silent" });
let dir: ReturnType<typeof historyDir>;
let store: HistoryStore;

beforeEach(() => {
  dir = historyDir();
  store = openStore(dir.file());
});
afterEach(() => {
  store.close();
  dir.cleanup();
});

const values = (res: HistoryResult) => (res.kind === "samples" ? res.samples.map((s) => s.value) : []);
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const historyStats = (bus: ReturnType<typeof createBus>) =>
  bus.consumers().find((c) => c.name === HISTORY_CONSUMER);

describe("attachHistory", () => {
  it("stores what the bus publishes, in order, except points with retention 0", async () => {
    const bus = createBus();
    const pointRetention = (_d: string, point: string) =>
      point === "off" ? 0 : point === "long" ? 1e9 : undefined;
    const attached = attachHistory(bus, store, { pointRetention }, log);
    const batch = Array.from({ length: 2_500 }, (_, i) => r("d", ["p", "long", "off"][i % 3]!, T0 + i, i));
    bus.publish(batch.slice(0, 1_200));
    bus.publish(batch.slice(1_200));

    await vi.waitFor(() => expect(historyStats(bus)?.delivered).toBe(2_500));
    expect(values(store.query("d", "p", { limit: 10_000 }))).toEqual(
      batch.filter((x) => x.point === "p").map((x) => x.value),
    );
    expect(values(store.query("d", "long", { limit: 10_000 }))).toHaveLength(833);
    expect(values(store.query("d", "off"))).toEqual([]);
    expect(store.stats()).toMatchObject({ rows: 834 + 833, errors: 0 });
    attached.close();
  });

  it("drops the oldest readings when its queue is full, visibly in bus.consumers()", async () => {
    const bus = createBus();
    attachHistory(bus, store, { pointRetention: () => undefined, capacity: 10, maxBatch: 4 }, log);
    bus.publish(Array.from({ length: 25 }, (_, i) => r("d", "p", T0 + i, i)));
    expect(historyStats(bus)).toMatchObject({
      capacity: 10,
      overflow: "drop-oldest",
      dropped: 15,
      queued: 10,
    });
    await vi.waitFor(() => expect(historyStats(bus)?.queued).toBe(0));
    expect(values(store.query("d", "p"))).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
  });

  it("stops storing once closed, and leaves the store open", async () => {
    const bus = createBus();
    const attached = attachHistory(bus, store, { pointRetention: () => undefined }, log);
    bus.publish([r("d", "p", T0, 1)]);
    await vi.waitFor(() => expect(store.stats().rows).toBe(1));
    attached.close();
    expect(historyStats(bus)).toBeUndefined();
    bus.publish([r("d", "p", T0 + 1, 2)]);
    await tick();
    await tick();
    expect(values(store.query("d", "p"))).toEqual([1]);
    expect(store.append([r("d", "p", T0 + 2, 3)])).toBe(1);
  });

  it("survives a failing batch: counted by the store, not an error of the bus consumer", async () => {
    const bus = createBus();
    attachHistory(bus, store, { pointRetention: () => undefined }, log);
    bus.publish([r("d", "p", T0, 1), { ...r("d", "p", T0, 2), ts: "garbage" }]);
    await vi.waitFor(() => expect(historyStats(bus)?.delivered).toBe(2));
    expect(historyStats(bus)?.errors).toBe(0);
    expect(store.stats()).toMatchObject({ errors: 1, rows: 0 });
    bus.publish([r("d", "p", T0 + 1, 3)]);
    await vi.waitFor(() => expect(values(store.query("d", "p"))).toEqual([3]));
  });
});
