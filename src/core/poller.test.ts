import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Poller, spreadPhase } from "./poller.js";

/** A start instant 17 ms past a multiple of 100 ms since the epoch: off the grid on purpose. */
const EPOCH = Date.UTC(2026, 0, 1) + 17;

beforeEach(() => {
  // The poller reads performance.now() and performance.timeOrigin; the fake clock's origin is EPOCH.
  vi.useFakeTimers({ now: EPOCH, toFake: ["setTimeout", "clearTimeout", "performance", "Date"] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("Poller", () => {
  it("ticks on the clock's grid of the interval: pollers started apart poll together after the first read", async () => {
    const interval = 100;
    const times: Record<"a" | "b", number[]> = { a: [], b: [] };
    const poller = (name: "a" | "b") =>
      new Poller(
        [{ intervalMs: interval, points: [] }],
        async () => {
          times[name].push(performance.now());
        },
        () => {},
      );
    expect(performance.timeOrigin).toBe(EPOCH);
    const a = poller("a");
    a.start();
    await vi.advanceTimersByTimeAsync(45);
    const b = poller("b");
    b.start();
    await vi.advanceTimersByTimeAsync(3.5 * interval);
    await Promise.all([a.stop(), b.stop()]);
    // The first read is at start; the later ones on multiples of the interval since the epoch (plus
    // the 1 ms the poller adds so a timer never fires before its grid point), so the two pollers,
    // started 45 ms apart, read in the same instants.
    expect(times.a[0]).toBe(0);
    expect(times.b[0]).toBe(45);
    const later = [...times.a.slice(1), ...times.b.slice(1)];
    for (const t of later) expect((performance.timeOrigin + t) % interval).toBe(1);
    // a: 0, then the first grid point at least half an interval after it (83, +1), and every 100 ms.
    expect(times.a).toEqual([0, 84, 184, 284, 384]);
    // b started at 45: the grid point at 83 is closer than half an interval, so its next is 183.
    expect(times.b).toEqual([45, 184, 284, 384]);
  });

  it("a group whose read is still running skips its tick and counts an overrun", async () => {
    let overruns = 0;
    let reads = 0;
    let finish = () => {};
    const p = new Poller(
      [{ intervalMs: 100, points: [] }],
      () => {
        reads++;
        return new Promise<void>((r) => (finish = r));
      },
      () => overruns++,
    );
    p.start();
    await vi.advanceTimersByTimeAsync(500); // five grid points while the first read hangs
    expect(reads).toBe(1);
    expect(overruns).toBe(5);
    finish();
    await vi.advanceTimersByTimeAsync(100);
    expect(reads).toBe(2);
    finish();
    await p.stop();
  });

  it("a phase shifts the grid within the interval, and late timers count missed ticks on that grid", async () => {
    const interval = 100;
    const times: number[] = [];
    let missed = 0;
    // The poller's clock, which a test may move ahead of the timers (a blocked event loop).
    let skew = 0;
    const clock = { now: () => performance.timeOrigin + performance.now() + skew };
    const p = new Poller(
      [{ intervalMs: interval, points: [] }],
      async () => {
        times.push(performance.now());
      },
      () => {},
      () => {},
      { phase: 0.25, clock, onLost: (_g, why, n) => (missed += why === "missed" ? n : 0) },
    );
    p.start();
    await vi.advanceTimersByTimeAsync(3.5 * interval);
    // Started 17 ms past a multiple of 100: the grid is at 25 past each multiple, plus the poller's 1 ms.
    for (const t of times.slice(1)) expect((performance.timeOrigin + t) % interval).toBe(26);
    expect(times).toEqual([0, 109, 209, 309]);
    expect(missed).toBe(0);
    // The next timer (at 409) fires with the clock 300 ms further: ticks 4, 5 and 6 were jumped over.
    skew = 3 * interval;
    await vi.advanceTimersByTimeAsync(interval);
    expect(missed).toBe(3);
    expect(times).toHaveLength(5);
    await p.stop();
    expect(missed).toBe(3);
  });

  it("refuses a phase outside [0, 1)", () => {
    for (const phase of [-0.1, 1, Number.NaN])
      expect(
        () =>
          new Poller(
            [],
            async () => {},
            () => {},
            () => {},
            { phase },
          ),
      ).toThrow(RangeError);
  });

  it("spreadPhase is stable per id and spreads many ids evenly over the interval", () => {
    expect(spreadPhase("line1-cell7")).toBe(spreadPhase("line1-cell7"));
    expect(spreadPhase("line1-cell7")).not.toBe(spreadPhase("line1-cell8"));
    // 10,000 devices named as a plant names them, into 100 slots of the interval: none holds more
    // than twice its share, none is empty (with a shared grid, one slot holds all 10,000).
    const slots = new Array<number>(100).fill(0);
    for (let d = 0; d < 10_000; d++) {
      const phase = spreadPhase(`line${Math.floor(d / 100)}-cell${d % 100}`);
      expect(phase).toBeGreaterThanOrEqual(0);
      expect(phase).toBeLessThan(1);
      slots[Math.floor(phase * 100)]!++;
    }
    expect(Math.max(...slots)).toBeLessThanOrEqual(200);
    expect(Math.min(...slots)).toBeGreaterThan(0);
    // Ids that differ only in their last character land apart too: 10 of them over most tenths.
    const tenths = new Set(Array.from({ length: 10 }, (_, i) => Math.floor(spreadPhase(`cell-${i}`) * 10)));
    expect(tenths.size).toBeGreaterThanOrEqual(6);
  });
});
