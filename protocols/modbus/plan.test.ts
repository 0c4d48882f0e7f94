import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type PlanItem, type PlanLimits, planRequests } from "./plan.js";

const hr = (address: number, size = 1, unitId = 1): PlanItem => ({ unitId, table: "holding", address, size });
const limits = (over: Partial<PlanLimits> = {}): PlanLimits => ({
  maxRegisters: 125,
  maxBits: 2000,
  maxGapRegisters: 0,
  maxGapBits: 0,
  ...over,
});
const shape = (items: PlanItem[], l: PlanLimits) =>
  planRequests(items, l).map((r) => `${r.unitId}/${r.table}:${r.address}+${r.count}`);

describe("planRequests", () => {
  it.each<[string, PlanItem[], Partial<PlanLimits>, string[]]>([
    ["adjacent points join", [hr(0, 2), hr(2, 2), hr(4, 1)], {}, ["1/holding:0+5"]],
    [
      "a gap larger than allowed splits",
      [hr(0), hr(5)],
      { maxGapRegisters: 3 },
      ["1/holding:0+1", "1/holding:5+1"],
    ],
    ["a gap up to the limit is read through", [hr(0), hr(4)], { maxGapRegisters: 3 }, ["1/holding:0+5"]],
    ["125 registers per request", [hr(0, 100), hr(100, 26)], {}, ["1/holding:0+100", "1/holding:100+26"]],
    [
      "maxRegistersPerRequest",
      [hr(0, 2), hr(2, 2), hr(4, 2)],
      { maxRegisters: 4 },
      ["1/holding:0+4", "1/holding:4+2"],
    ],
    ["overlapping points share registers", [hr(0, 4), hr(1, 1), hr(3, 2)], {}, ["1/holding:0+5"]],
    [
      "units and tables are planned apart",
      [hr(0, 1, 2), hr(1, 1, 1), { unitId: 1, table: "input", address: 2, size: 1 }],
      { maxGapRegisters: 10 },
      ["1/holding:1+1", "1/input:2+1", "2/holding:0+1"],
    ],
    [
      "2000 bits per coil request",
      [
        { unitId: 1, table: "coil", address: 0, size: 1500 },
        { unitId: 1, table: "coil", address: 1500, size: 501 },
      ],
      {},
      ["1/coil:0+1500", "1/coil:1500+501"],
    ],
    [
      "bit gaps use maxGapBits",
      [
        { unitId: 1, table: "discrete", address: 0, size: 1 },
        { unitId: 1, table: "discrete", address: 50, size: 1 },
      ],
      { maxGapBits: 64 },
      ["1/discrete:0+51"],
    ],
    ["unsorted input", [hr(10), hr(0), hr(5)], { maxGapRegisters: 4 }, ["1/holding:0+11"]],
  ])("%s", (_name, items, l, expected) => expect(shape(items, limits(l))).toEqual(expected));

  it("serves every item exactly once, from a request that contains it", () => {
    const items = [hr(0, 2), hr(7, 4), hr(9, 1), hr(300, 2), hr(2, 2)];
    const plan = planRequests(items, limits({ maxGapRegisters: 5 }));
    const served = plan.flatMap((r) => r.items).sort();
    expect(served).toEqual([0, 1, 2, 3, 4]);
    for (const r of plan) {
      for (const i of r.items) {
        expect(items[i]!.address).toBeGreaterThanOrEqual(r.address);
        expect(items[i]!.address + items[i]!.size).toBeLessThanOrEqual(r.address + r.count);
      }
    }
  });
});

/**
 * The fewest requests that read `items`, by exhaustive search over subsets: a subset is one request
 * when its extent fits `max` and no hole in the union of its items exceeds `gap`.
 */
function optimum(items: PlanItem[], max: number, gap: number): number {
  const n = items.length;
  const fits = (mask: number) => {
    const chosen = items.filter((_, i) => mask & (1 << i)).sort((a, b) => a.address - b.address);
    const start = chosen[0]!.address;
    let end = start;
    for (const it of chosen) {
      if (it.address - end > gap) return false;
      end = Math.max(end, it.address + it.size);
    }
    return end - start <= max;
  };
  const best = new Array<number>(1 << n).fill(Number.POSITIVE_INFINITY);
  best[0] = 0;
  for (let mask = 1; mask < 1 << n; mask++) {
    const low = mask & -mask;
    // every subset of mask that contains its lowest item
    for (let sub = mask; sub > 0; sub = (sub - 1) & mask) {
      if (sub & low && fits(sub)) best[mask] = Math.min(best[mask]!, best[mask ^ sub]! + 1);
    }
  }
  return best[(1 << n) - 1]!;
}

describe("plan optimality", () => {
  it("needs as few requests as an exhaustive search, on random sparse maps", () => {
    // Points that do not partially overlap (the realistic case; several bits of one register are
    // exact duplicates): laid out by random gaps and sizes, some repeated.
    const step = fc.record({
      gap: fc.integer({ min: 0, max: 6 }),
      size: fc.integer({ min: 1, max: 4 }),
      dup: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 4, max: 12 }),
        fc.integer({ min: 0, max: 4 }),
        (steps, max, gap) => {
          const items: PlanItem[] = [];
          let at = 0;
          for (const st of steps) {
            const prev = items.at(-1);
            if (st.dup && prev) items.push({ ...prev });
            else {
              items.push(hr(at + st.gap, st.size));
              at += st.gap + st.size;
            }
          }
          items.reverse(); // the planner must not rely on input order
          const plan = planRequests(items, limits({ maxRegisters: max, maxGapRegisters: gap }));
          for (const r of plan) expect(r.count).toBeLessThanOrEqual(max);
          expect(plan.length).toBe(optimum(items, max, gap));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("a sparse 100-point map: the greedy count equals the optimum", () => {
    // Floats every 3 registers in clusters separated by 20-register holes.
    const items = Array.from({ length: 100 }, (_, i) => hr(Math.floor(i / 10) * 50 + (i % 10) * 3, 2));
    const plan = planRequests(items, limits({ maxRegisters: 125, maxGapRegisters: 8 }));
    expect(plan.length).toBe(10);
    expect(planRequests(items, limits({ maxRegisters: 125, maxGapRegisters: 21 })).length).toBe(4);
  });
});
