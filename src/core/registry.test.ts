import { describe, expect, it } from "vitest";
import { simulatorAdapter } from "../../adapters/simulator/index.js";
import { AdapterRegistry } from "./registry.js";

describe("AdapterRegistry", () => {
  it("holds the built-in adapters", () => {
    expect(new AdapterRegistry().get("simulator")).toBe(simulatorAdapter);
  });

  it("loads a third-party package's default or `adapter` export", async () => {
    const registry = new AdapterRegistry([]);
    const thirdParty = { ...simulatorAdapter, type: "acme-plc" };
    await registry.load(["acme-tagbridge"], async (name) =>
      name === "acme-tagbridge" ? { adapter: thirdParty } : {},
    );
    expect(registry.get("acme-plc")).toBe(thirdParty);
  });

  it("refuses a package that is missing, malformed, needs another SDK, or reuses a type", async () => {
    const registry = new AdapterRegistry();
    await expect(registry.load(["no-such-tagbridge-adapter-package"])).rejects.toThrow(/could not be loaded/);
    await expect(registry.load(["x"], async () => ({ default: { type: "x" } }))).rejects.toThrow(
      /capabilities is not an array/,
    );
    await expect(
      registry.load(["y"], async () => ({ default: { ...simulatorAdapter, type: "y", sdk: "^2.0.0" } })),
    ).rejects.toThrow(/excludes this SDK/);
    await expect(registry.load(["z"], async () => ({ default: { ...simulatorAdapter } }))).rejects.toThrow(
      /already registered/,
    );
  });
});
