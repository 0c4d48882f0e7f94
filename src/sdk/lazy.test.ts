import { describe, expect, it } from "vitest";
import { lazyImport } from "./lazy.js";

describe("lazyImport", () => {
  it("imports once, hands the module out after load, and refuses get() before", async () => {
    let calls = 0;
    const lazy = lazyImport(async () => {
      calls++;
      return { answer: 42 };
    });
    expect(() => lazy.get()).toThrow(/before load/);
    const [a, b] = await Promise.all([lazy.load(), lazy.load()]);
    expect(a).toBe(b);
    expect(lazy.get()).toBe(a);
    await lazy.load();
    expect(calls).toBe(1);
  });

  it("tries a failed import again on the next load()", async () => {
    let calls = 0;
    const lazy = lazyImport(async () => {
      if (++calls === 1) throw new Error("not there yet");
      return { ok: true };
    });
    await expect(lazy.load()).rejects.toThrow("not there yet");
    expect(() => lazy.get()).toThrow();
    await expect(lazy.load()).resolves.toEqual({ ok: true });
    expect(calls).toBe(2);
  });
});
