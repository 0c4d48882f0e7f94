import { describe, expect, it } from "vitest";
import { compileTemplate, isValidFilter, matchFilter, renderTopic } from "./topic.js";

describe("matchFilter", () => {
  it.each([
    ["a/b/c", "a/b/c", true],
    ["a/+/c", "a/x/c", true],
    ["a/+/c", "a/x/y/c", false],
    ["a/#", "a", true],
    ["a/#", "a/b/c", true],
    ["#", "a/b", true],
    ["+", "a", true],
    ["+", "a/b", false],
    ["a/+", "a/", true],
    ["#", "$SYS/x", false],
    ["+/x", "$SYS/x", false],
    ["$SYS/#", "$SYS/x", true],
    ["a/b", "a/b/c", false],
    ["a/b/c", "a/b", false],
  ])("%s ~ %s → %s", (filter, topic, expected) => {
    expect(matchFilter(filter, topic)).toBe(expected);
  });
});

describe("isValidFilter", () => {
  it.each([
    ["a/+/#", true],
    ["a/b#", false],
    ["a/#/b", false],
    ["a+/b", false],
    ["", false],
  ])("%s → %s", (f, ok) => expect(isValidFilter(f)).toBe(ok));
});

describe("compileTemplate", () => {
  it("binds named levels and subscribes with +", () => {
    const t = compileTemplate("plant/{line}/{device}/telemetry");
    expect(t.filter).toBe("plant/+/+/telemetry");
    expect(t.names).toEqual(["line", "device"]);
    expect(t.wildcard).toBe(true);
    expect(t.match("plant/L1/press-7/telemetry")).toEqual({ line: "L1", device: "press-7" });
    expect(t.match("plant/L1/press-7/status")).toBeUndefined();
  });

  it("fixes names given in vars", () => {
    const t = compileTemplate("plant/{line}/{device}/telemetry", { line: "L1" });
    expect(t.filter).toBe("plant/L1/+/telemetry");
    expect(t.match("plant/L2/x/telemetry")).toBeUndefined();
    expect(t.match("plant/L1/x/telemetry")).toEqual({ device: "x" });
  });

  it("a literal topic is not a wildcard", () => {
    expect(compileTemplate("a/b").wildcard).toBe(false);
    expect(compileTemplate("a/#").wildcard).toBe(true);
  });

  it.each(["a/{x}{y}", "a/#/b", "a/{x}/{x}", "a/b{c}"])("rejects %s", (bad) => {
    expect(() => compileTemplate(bad)).toThrow();
  });
});

describe("renderTopic", () => {
  it("fills placeholders", () => {
    expect(renderTopic("cmd/{device}/{point}", { device: "d1", point: "p" })).toBe("cmd/d1/p");
  });
  it("throws on a missing name or a wildcard result", () => {
    expect(() => renderTopic("cmd/{device}", {})).toThrow(/no value/);
    expect(() => renderTopic("cmd/{device}", { device: "+" })).toThrow(/not a valid/);
  });
});
