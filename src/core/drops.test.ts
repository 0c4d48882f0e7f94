import { describe, expect, it } from "vitest";
import type { Reading } from "../schema/reading.js";
import { createBus } from "./bus.js";
import { DropLedger } from "./drops.js";
import { HeldSamples } from "./held.js";

let seq = 0;
function reading(device: string, point = "p"): Reading {
  const ts = "2026-01-01T00:00:00.000Z";
  return {
    gateway: "g",
    device,
    point,
    value: ++seq,
    type: "float64",
    quality: "good",
    ts,
    receivedAt: ts,
    protocol: "test",
    seq,
  };
}

/** A consumer that never finishes its first batch. */
const stalled = () => new Promise<void>(() => {});

describe("drops per device", () => {
  it("drop-oldest counts the reading it evicts, for that reading's device, not the one that arrived", () => {
    const bus = createBus();
    const c = bus.subscribe({ name: "q", capacity: 2, handle: stalled });
    // Publishing is synchronous and the consumer's drain has not started: the queue holds a, a.
    bus.publish([reading("a"), reading("a")]);
    bus.publish([reading("b")]); // evicts the oldest a
    bus.publish([reading("b"), reading("c")]); // evicts a, then b
    expect(c.stats().dropped).toBe(3);
    expect(bus.drops.list()).toEqual([
      { device: "a", cause: "q", count: 2 },
      { device: "b", cause: "q", count: 1 },
    ]);
  });

  it("drop-newest counts the reading it refuses", () => {
    const bus = createBus();
    bus.subscribe({ name: "q", capacity: 1, overflow: "drop-newest", handle: stalled });
    bus.publish([reading("a"), reading("b"), reading("b"), reading("a")]);
    expect(bus.drops.total("a")).toBe(1);
    expect(bus.drops.total("b")).toBe(2);
  });

  it("each consumer counts its own drops; readings a filter leaves out are not drops", () => {
    const bus = createBus();
    bus.subscribe({ name: "only-a", capacity: 1, filter: { devices: ["a"] }, handle: stalled });
    bus.subscribe({ name: "all", capacity: 2, handle: stalled });
    bus.publish([reading("a"), reading("b"), reading("a"), reading("b")]);
    expect(bus.drops.list()).toEqual([
      { device: "a", cause: "only-a", count: 1 },
      { device: "a", cause: "all", count: 1 },
      { device: "b", cause: "all", count: 1 },
    ]);
    expect(bus.drops.total("a")).toBe(2);
    bus.forget("a");
    expect(bus.drops.total("a")).toBe(0);
    expect(bus.drops.total("b")).toBe(1);
  });

  it("keeps 16 causes by name per device and sums the rest as other, the total exact", () => {
    const ledger = new DropLedger();
    for (let i = 0; i < 20; i++) ledger.add("d", `ws:client-${i}`, 2);
    ledger.add("d", "ws:client-3");
    const causes = ledger.list();
    expect(causes).toHaveLength(17);
    expect(causes.find((c) => c.cause === "other")?.count).toBe(8);
    expect(causes.find((c) => c.cause === "ws:client-3")?.count).toBe(3);
    expect(ledger.total("d")).toBe(41);
  });

  it("held samples: evicted beyond the bound and discarded by clear() are dropped; superseded ones are not", () => {
    let dropped = 0;
    const held = new HeldSamples(1, (n) => (dropped += n)); // 4 per point
    held.hold([{ point: "p", value: 1 }]);
    held.hold([{ point: "p", value: 2 }]); // supersedes the first: the latest per point is what counts
    expect(dropped).toBe(0);
    held.hold([1, 2, 3, 4, 5].map((i) => ({ point: "p", value: i, address: `a${i}` })));
    expect(dropped).toBe(2); // six keys, room for four
    held.clear();
    expect(dropped).toBe(6);
    held.hold([{ point: "p", value: 3 }]);
    expect(held.take()).toHaveLength(1); // taken to be published: not dropped
    held.clear();
    expect(dropped).toBe(6);
  });
});
