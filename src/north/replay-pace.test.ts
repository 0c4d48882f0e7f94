import { describe, expect, it } from "vitest";
import { LAG_LIMIT_MS, MAX_PAUSE_MS, ReplayPacer, UTILIZATION_LIMIT } from "./replay-pace.js";

const calm = (window: number) => ({ lagMs: 0, utilization: 0.3, window });
const late = (window: number) => ({ lagMs: LAG_LIMIT_MS + 1, utilization: 0.3, window });

describe("ReplayPacer", () => {
  it("runs flat out while the loop is calm", () => {
    const p = new ReplayPacer();
    for (let w = 1; w <= 5; w++) expect(p.next(calm(w))).toBe(0);
  });

  it("doubles the pause per late window up to the cap, and halves it back to none", () => {
    const p = new ReplayPacer();
    const up = [1, 2, 3, 4, 5, 6, 7, 8].map((w) => p.next(late(w)));
    expect(up).toEqual([5, 10, 20, 40, 80, 160, MAX_PAUSE_MS, MAX_PAUSE_MS]);
    const down: number[] = [];
    for (let w = 9; down.at(-1) !== 0; w++) down.push(p.next(calm(w)));
    expect(down.slice(0, 3)).toEqual([MAX_PAUSE_MS / 2, MAX_PAUSE_MS / 4, MAX_PAUSE_MS / 8]);
    expect(down.length).toBeLessThan(10);
  });

  it("backs off when the loop is nearly always busy, even with timers on time", () => {
    const p = new ReplayPacer();
    expect(p.next({ lagMs: 0, utilization: UTILIZATION_LIMIT + 0.05, window: 1 })).toBeGreaterThan(0);
  });

  it("judges each window once: pages within one window keep its pause", () => {
    const p = new ReplayPacer();
    expect(p.next(late(1))).toBe(5);
    expect(p.next(late(1))).toBe(5);
    expect(p.next(late(1))).toBe(5);
    expect(p.next(late(2))).toBe(10);
  });
});
