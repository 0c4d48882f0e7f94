/**
 * Just enough semver to check an adapter's `sdk` range against `SDK_VERSION`: exact versions and
 * `^`, `~`, `>=`, `>`, `<=`, `<`, `=` comparators on full `major.minor.patch` versions, joined by
 * spaces (and) and `||` (or). No prereleases, no `x` ranges, no hyphen ranges.
 */

type Version = readonly [number, number, number];

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)$/;
const COMPARATOR = /^(\^|~|>=|<=|>|<|=)?\s*(v?\d+\.\d+\.\d+)$/;

function parse(text: string): Version | undefined {
  const m = VERSION.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Upper bound (exclusive) of a caret range: the first version that changes the leftmost non-zero part. */
function caretLimit([major, minor, patch]: Version): Version {
  if (major > 0) return [major + 1, 0, 0];
  return minor > 0 ? [0, minor + 1, 0] : [0, 0, patch + 1];
}

function test(v: Version, op: string, base: Version): boolean {
  const c = compare(v, base);
  if (op === "^") return c >= 0 && compare(v, caretLimit(base)) < 0;
  if (op === "~") return c >= 0 && compare(v, [base[0], base[1] + 1, 0]) < 0;
  return { ">=": c >= 0, "<=": c <= 0, ">": c > 0, "<": c < 0, "=": c === 0, "": c === 0 }[op] ?? false;
}

/** Splits a range into sets of `[operator, version]`; undefined when any part is not understood. */
function parseRange(range: string): [string, Version][][] | undefined {
  const sets = range.split("||").map((set) => set.trim().replace(/(\^|~|>=|<=|>|<|=)\s+/g, "$1").split(/\s+/));
  const parsed = sets.map((set) => set.map((part) => COMPARATOR.exec(part)));
  if (parsed.some((set) => set.some((m) => m === null))) return undefined;
  return parsed.map((set) => set.map((m) => [m![1] ?? "", parse(m![2]!)!]));
}

/** True when `range` is a range this checker understands. */
export function isValidRange(range: string): boolean {
  return parseRange(range) !== undefined;
}

/** True when `version` (`major.minor.patch`) satisfies `range`; false for anything not understood. */
export function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  const sets = parseRange(range);
  if (!v || !sets) return false;
  return sets.some((set) => set.every(([op, base]) => test(v, op, base)));
}
