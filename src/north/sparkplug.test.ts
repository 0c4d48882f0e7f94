/** The Sparkplug sink's cutting of a device's batch where a point's type changes. */
import { describe, expect, it } from "vitest";
import { reading } from "../../test/north/helpers.js";
import { typeRuns } from "./sparkplug-node.js";

describe("typeRuns", () => {
  it("cuts before a reading whose point changed type within the run, keeping order", () => {
    const a1 = reading(1, "d", "a", true);
    const b2 = reading(2, "d", "b", 1.5);
    const a3 = { ...reading(3, "d", "a"), type: "int64" as const, value: 7 };
    const b4 = reading(4, "d", "b", 2.5);
    const a5 = reading(5, "d", "a", false);
    const seqs = (runs: ReturnType<typeof typeRuns>) => runs.map((r) => r.map((x) => x.seq));
    expect(seqs(typeRuns([a1, b2, a3, b4, a5]))).toEqual([[1, 2], [3, 4], [5]]);
    expect(seqs(typeRuns([a1, b2, b4]))).toEqual([[1, 2, 4]]);
    expect(typeRuns([])).toEqual([]);
  });
});
