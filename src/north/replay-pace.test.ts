import { describe, expect, it } from "vitest";
import { DrainFloor, LAG_LIMIT_MS, MAX_PAUSE_MS, ReplayPacer, UTILIZATION_LIMIT } from "./replay-pace.js";

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

describe("DrainFloor", () => {
  it("allows any pause while nothing enters the buffer", () => {
    let t = 0;
    const floor = new DrainFloor(
      () => 0,
      () => t,
    );
    t = 100;
    expect(floor.maxPause(2_000)).toBe(Number.POSITIVE_INFINITY);
  });

  it("keeps the drain at twice the inflow: the page's budget minus the time it took", () => {
    let t = 0;
    let appended = 5_000;
    const floor = new DrainFloor(
      () => appended,
      () => t,
    );
    // 20 readings/ms flow in; a page of 2,000 must take at most 2,000 / (2 × 20) = 50 ms in all.
    t = 10;
    appended += 200;
    expect(floor.maxPause(2_000)).toBeCloseTo(40, 5);
    t = 100;
    appended += 1_800;
    floor.resumed();
    t = 130;
    appended += 600;
    // Inflow 2,600 over 130 ms = 20/ms; 30 ms of the 50 ms budget spent: 20 ms left.
    expect(floor.maxPause(2_000)).toBeCloseTo(20, 5);
    floor.resumed();
    t = 250;
    appended += 2_400;
    // A page that took longer than its budget: no pause at all.
    expect(floor.maxPause(2_000)).toBe(0);
  });

  it("caps the pacer's pause at the floor's", () => {
    const p = new ReplayPacer();
    expect(p.next(late(1), 3)).toBe(3);
    expect(p.next(late(2), Number.POSITIVE_INFINITY)).toBe(10);
  });
});
