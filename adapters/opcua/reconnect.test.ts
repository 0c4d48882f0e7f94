import { describe, expect, it } from "vitest";
import { recoverWithBackoff } from "./reconnect.js";

const backoff = { minMs: 20, maxMs: 80 };

describe("recoverWithBackoff", () => {
  it("makes one attempt per backoff step, doubling up to maxMs, and stops at the first success", async () => {
    const at: number[] = [];
    const failures: string[] = [];
    const start = performance.now();
    await recoverWithBackoff({
      backoff,
      signal: new AbortController().signal,
      wanted: () => true,
      attempt: async () => {
        at.push(performance.now() - start);
        if (at.length < 5) throw new Error(`refused ${at.length}`);
      },
      failed: (reason) => failures.push(reason),
    });
    expect(at).toHaveLength(5);
    expect(failures).toEqual(["refused 1", "refused 2", "refused 3", "refused 4"]);
    const gaps = [at[0]!, ...at.slice(1).map((t, i) => t - at[i]!)];
    // Timers never fire early (1 ms of rounding allowed): 20, 40, 80, 80, 80.
    for (const [i, step] of [20, 40, 80, 80, 80].entries()) expect(gaps[i]).toBeGreaterThanOrEqual(step - 1);
  });

  it("ends at once when aborted mid-step, with no further attempt", async () => {
    const abort = new AbortController();
    let attempts = 0;
    const done = recoverWithBackoff({
      backoff: { minMs: 60_000, maxMs: 60_000 },
      signal: abort.signal,
      wanted: () => true,
      attempt: async () => void attempts++,
      failed: () => undefined,
    });
    const t = performance.now();
    abort.abort();
    await done;
    expect(performance.now() - t).toBeLessThan(50);
    expect(attempts).toBe(0);
  });

  it("ends when recovery is no longer wanted (the connection came back by itself)", async () => {
    let wanted = true;
    let attempts = 0;
    await recoverWithBackoff({
      backoff,
      signal: new AbortController().signal,
      wanted: () => wanted,
      attempt: async () => {
        attempts++;
        wanted = false;
        throw new Error("refused");
      },
      failed: () => undefined,
    });
    expect(attempts).toBe(1);
  });
});
