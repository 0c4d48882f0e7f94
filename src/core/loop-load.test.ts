import { describe, expect, it } from "vitest";
import { until } from "../../test/helpers/until.js";
import { LOOP_WINDOW_MS, mainLoopLoad } from "./loop-load.js";

describe("mainLoopLoad", () => {
  it("measures nothing until acquired, and a blocked loop as lag once it is", async () => {
    expect(mainLoopLoad.current().lagMs).toBe(0);
    const release = mainLoopLoad.acquire();
    try {
      const start = mainLoopLoad.current().window;
      await until(
        "two windows sampled",
        () => mainLoopLoad.current().window > start + 1,
        20 * LOOP_WINDOW_MS,
      );
      // Hold the loop for 60 ms, as a long page parse or a descheduled thread would.
      const blockedFrom = performance.now();
      while (performance.now() - blockedFrom < 60) {
        /* busy */
      }
      // The window that closes next shows it.
      const after = mainLoopLoad.current().window;
      await until(
        "the window after the block",
        () => mainLoopLoad.current().window > after,
        20 * LOOP_WINDOW_MS,
        undefined,
        5,
      );
      expect(mainLoopLoad.current().lagMs).toBeGreaterThan(30);
    } finally {
      release();
    }
    expect(mainLoopLoad.current().lagMs).toBe(0);
  });

  it("keeps sampling until its last user releases it; a release twice counts once", async () => {
    const a = mainLoopLoad.acquire();
    const b = mainLoopLoad.acquire();
    a();
    a();
    const w = mainLoopLoad.current().window;
    await until(
      "a window sampled with one user left",
      () => mainLoopLoad.current().window > w,
      20 * LOOP_WINDOW_MS,
    );
    b();
  });
});
