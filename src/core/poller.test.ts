import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Poller } from "./poller.js";

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
});
