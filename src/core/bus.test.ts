import { describe, expect, it } from "vitest";
import type { Reading } from "../schema/reading.js";
import { createBus } from "./bus.js";

let seq = 0;
function reading(device: string, point: string, value: number): Reading {
  const ts = "2026-01-01T00:00:00.000Z";
  return {
    gateway: "g",
    device,
    point,
    value,
    type: "float64",
    quality: "good",
    ts,
    receivedAt: ts,
    protocol: "test",
    seq: ++seq,
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("bus", () => {
  it("fans out in publish order and keeps the latest value per point", async () => {
    const bus = createBus();
    const a: number[] = [];
    const b: number[] = [];
    bus.subscribe({ name: "a", handle: (batch) => void a.push(...batch.map((r) => r.value as number)) });
    bus.subscribe({ name: "b", handle: (batch) => void b.push(...batch.map((r) => r.value as number)) });
    bus.publish([reading("d1", "p", 1), reading("d1", "p", 2)]);
    bus.publish([reading("d2", "q", 3)]);
    await tick();
    expect(a).toEqual([1, 2, 3]);
    expect(b).toEqual([1, 2, 3]);
    expect(bus.latest().map((r) => r.value)).toEqual([2, 3]);
    expect(bus.latest({ devices: ["d2"] }).map((r) => r.point)).toEqual(["q"]);
    expect(bus.latest({ points: ["p"] }).map((r) => r.device)).toEqual(["d1"]);
  });

  it("a stalled consumer neither blocks publishers nor delays other consumers; its drops are counted", async () => {
    const bus = createBus();
    let stalledCalls = 0;
    bus.subscribe({
      name: "stalled",
      capacity: 100,
      handle: () => {
        stalledCalls++;
        return new Promise<void>(() => {}); // never resolves
      },
    });
    const fast: Reading[] = [];
    bus.subscribe({ name: "fast", capacity: 100, handle: (batch) => void fast.push(...batch) });

    const total = 10_000;
    // publish is synchronous and only queues: it returns nothing to wait for, and it returns before
    // any handler has run (each consumer drains on its own loop).
    expect(bus.publish([reading("d", "p", 0)])).toBeUndefined();
    expect(stalledCalls).toBe(0);
    expect(fast).toEqual([]);
    const returned = new Set<unknown>();
    for (let i = 1; i < total; i++) {
      returned.add(bus.publish([reading("d", "p", i)]));
      if (i % 50 === 49) await tick(); // let consumers run between bursts, as adapters' I/O would
    }
    await tick();

    expect([...returned]).toEqual([undefined]);
    expect(fast.length).toBe(total);
    expect(fast.at(-1)?.value).toBe(total - 1);
    const stalled = bus.consumers().find((c) => c.name === "stalled")!;
    expect(stalledCalls).toBe(1); // its first handle call never resolved, and publishing went on
    expect(stalled.queued).toBe(100);
    expect(stalled.dropped).toBe(total - 100 - 50); // the first batch of 50 was taken before it stalled
    expect(stalled.delivered).toBe(0);
    expect(bus.consumers().find((c) => c.name === "fast")!.dropped).toBe(0);
  });

  it("tells a consumer stuck in handle when its queue passes half its capacity, once per crossing", async () => {
    const bus = createBus();
    let release = () => {};
    const calls: number[] = [];
    bus.subscribe({
      name: "slow",
      capacity: 10,
      maxBatch: 100,
      handle: () => new Promise<void>((r) => (release = r)),
      onBehind: () => calls.push(bus.consumers()[0]!.queued),
    });
    bus.publish([reading("d", "p", 0)]);
    await tick(); // taken: handle now waits
    for (let i = 1; i <= 8; i++) bus.publish([reading("d", "p", i)]);
    expect(calls).toEqual([6]); // called while publishing the sixth, not again for the seventh
    release();
    await tick(); // the queue emptied into the next handle call
    for (let i = 0; i < 6; i++) bus.publish([reading("d", "p", i)]);
    expect(calls).toEqual([6, 6]);
  });

  it("drop-newest keeps the oldest queued readings", async () => {
    const bus = createBus();
    const got: number[] = [];
    bus.subscribe({
      name: "n",
      capacity: 3,
      overflow: "drop-newest",
      handle: (b) => void got.push(...b.map((r) => r.value as number)),
    });
    bus.publish([1, 2, 3, 4, 5].map((v) => reading("d", "p", v)));
    await tick();
    expect(got).toEqual([1, 2, 3]);
    expect(bus.consumers()[0]!.dropped).toBe(2);
  });

  it("drop-oldest keeps the newest queued readings", async () => {
    const bus = createBus();
    const got: number[] = [];
    bus.subscribe({
      name: "o",
      capacity: 3,
      handle: (b) => void got.push(...b.map((r) => r.value as number)),
    });
    bus.publish([1, 2, 3, 4, 5].map((v) => reading("d", "p", v)));
    await tick();
    expect(got).toEqual([3, 4, 5]);
  });

  it("filters per consumer, survives a throwing handler, and close() unsubscribes", async () => {
    const errors: string[] = [];
    const bus = createBus((name) => errors.push(name));
    const got: string[] = [];
    const c = bus.subscribe({
      name: "f",
      filter: { devices: ["d1"], points: ["x"] },
      handle: (b) => void got.push(...b.map((r) => `${r.device}/${r.point}`)),
    });
    let n = 0;
    bus.subscribe({
      name: "boom",
      handle: () => {
        n++;
        throw new Error("boom");
      },
    });
    bus.publish([reading("d1", "x", 1), reading("d1", "y", 1), reading("d2", "x", 1)]);
    await tick();
    bus.publish([reading("d1", "x", 2)]);
    await tick();
    expect(got).toEqual(["d1/x", "d1/x"]);
    expect(n).toBe(2);
    expect(errors).toEqual(["boom", "boom"]);
    c.close();
    c.close();
    expect(bus.consumers().map((s) => s.name)).toEqual(["boom"]);
  });
});
