import { describe, expect, it } from "vitest";
import { Poller } from "./poller.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    const a = poller("a");
    a.start();
    await sleep(45);
    const b = poller("b");
    b.start();
    await sleep(3.5 * interval);
    await Promise.all([a.stop(), b.stop()]);
    // The first read is at start; the later ones on multiples of the interval since the epoch, so
    // the two pollers, started 45 ms apart, read in the same instants.
    expect(times.b[0]! - times.a[0]!).toBeGreaterThan(40);
    const later = [...times.a.slice(1), ...times.b.slice(1)];
    expect(later.length).toBeGreaterThanOrEqual(4);
    for (const t of later) {
      const phase = (performance.timeOrigin + t) % interval; // timers keep whole ms: a tick may come just before
      expect(Math.min(phase, interval - phase)).toBeLessThan(25);
    }
    const together = times.a.slice(1).filter((t) => times.b.slice(1).some((u) => Math.abs(t - u) < 25));
    expect(together.length).toBeGreaterThanOrEqual(2);
  });
});
