import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { recoverWithBackoff } from "./reconnect.js";

const backoff = { minMs: 20, maxMs: 80 };

/** Whether `p` has settled, once the microtasks queued so far have run. */
function settledFlag(p: Promise<unknown>): () => boolean {
  let settled = false;
  void p.finally(() => (settled = true));
  return () => settled;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("recoverWithBackoff", () => {
  it("makes one attempt per backoff step, doubling up to maxMs, and stops at the first success", async () => {
    const at: number[] = [];
    const failures: string[] = [];
    const waits: number[] = [];
    const start = performance.now();
    const done = recoverWithBackoff({
      backoff,
      signal: new AbortController().signal,
      wanted: () => true,
      attempt: async () => {
        at.push(performance.now() - start);
        if (at.length < 5) throw new Error(`refused ${at.length}`);
      },
      failed: (reason, retryInMs) => {
        failures.push(reason);
        waits.push(retryInMs);
      },
    });
    const finished = settledFlag(done);
    await vi.advanceTimersByTimeAsync(20 + 40 + 80 + 80 + 80);
    expect(finished()).toBe(true);
    await done;
    expect(at).toHaveLength(5);
    expect(failures).toEqual(["refused 1", "refused 2", "refused 3", "refused 4"]);
    const gaps = [at[0]!, ...at.slice(1).map((t, i) => t - at[i]!)];
    expect(gaps).toEqual([20, 40, 80, 80, 80]);
    expect(waits, "each failure names the wait that follows it").toEqual(gaps.slice(1));
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
    const finished = settledFlag(done);
    await vi.advanceTimersByTimeAsync(30_000); // mid-step
    abort.abort();
    await vi.advanceTimersByTimeAsync(0); // no fake time passes: the rest of the step is not waited for
    expect(finished()).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(attempts).toBe(0);
  });

  it("ends when recovery is no longer wanted (the connection came back by itself)", async () => {
    let wanted = true;
    let attempts = 0;
    let failures = 0;
    const done = recoverWithBackoff({
      backoff,
      signal: new AbortController().signal,
      wanted: () => wanted,
      attempt: async () => {
        attempts++;
        wanted = false;
        throw new Error("refused");
      },
      failed: () => void failures++,
    });
    const finished = settledFlag(done);
    await vi.advanceTimersByTimeAsync(backoff.minMs);
    expect(finished()).toBe(true);
    expect(attempts).toBe(1);
    expect(failures).toBe(0); // not reported: nobody waits for this recovery any more
    expect(vi.getTimerCount()).toBe(0); // no next step scheduled
  });
});
