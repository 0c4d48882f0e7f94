import { describe, expect, it } from "vitest";
import { isValidRange, satisfies } from "./semver.js";

describe("satisfies", () => {
  it.each([
    ["1.0.0", "^1.0.0", true],
    ["1.9.3", "^1.2.0", true],
    ["1.1.9", "^1.2.0", false],
    ["2.0.0", "^1.0.0", false],
    ["0.2.5", "^0.2.3", true],
    ["0.3.0", "^0.2.3", false],
    ["0.0.3", "^0.0.3", true],
    ["0.0.4", "^0.0.3", false],
    ["1.2.9", "~1.2.3", true],
    ["1.3.0", "~1.2.3", false],
    ["1.2.2", "~1.2.3", false],
    ["1.0.0", "1.0.0", true],
    ["1.0.1", "1.0.0", false],
    ["1.0.0", "=1.0.0", true],
    ["3.1.0", ">=1.0.0", true],
    ["0.9.9", ">=1.0.0", false],
    ["1.0.0", ">1.0.0", false],
    ["1.5.0", ">=1.0.0 <2.0.0", true],
    ["2.0.0", ">=1.0.0 <2.0.0", false],
    ["2.0.0", ">= 1.0.0 < 2.0.0", false],
    ["2.0.0", "<=2.0.0", true],
    ["2.4.0", "^1.0.0 || ^2.0.0", true],
    ["3.0.0", "^1.0.0 || ^2.0.0", false],
    ["1.0.0", "v1.0.0", true],
  ])("%s satisfies %s: %s", (version, range, expected) => {
    expect(satisfies(version, range)).toBe(expected);
  });

  it.each(["^1", "1.x", "*", "", "^1.0.0-beta.1", "1.0.0 - 2.0.0", "latest"])(
    "does not understand %j, so nothing satisfies it",
    (range) => {
      expect(isValidRange(range)).toBe(false);
      expect(satisfies("1.0.0", range)).toBe(false);
    },
  );

  it("rejects versions that are not major.minor.patch", () => {
    expect(satisfies("1.0", "^1.0.0")).toBe(false);
  });
});
