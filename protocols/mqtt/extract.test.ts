import { describe, expect, it } from "vitest";
import { type ExtractSpec, encodeCommand, extract, isSimplePath, ParsedPayload, select } from "./extract.js";

const p = (s: string) => new ParsedPayload(Buffer.from(s));
const json = (path: string, type = "float64", extra: Partial<ExtractSpec> = {}): ExtractSpec => ({
  type,
  format: "json",
  path,
  ...extra,
});

describe("extract from JSON", () => {
  const doc = JSON.stringify({
    temp: 21.5,
    nested: { rpm: 1450, "odd key": true },
    list: [
      { name: "a", v: 1 },
      { name: "b", v: 2 },
    ],
    ts: "2025-01-02T03:04:05.000Z",
    q: "uncertain",
  });
  it.each([
    ["$.temp", "float64", { ok: true, value: 21.5 }],
    ["$.nested.rpm", "uint16", { ok: true, value: 1450 }],
    ["$.nested['odd key']", "bool", { ok: true, value: true }],
    ["$.list[1].v", "int32", { ok: true, value: 2 }],
    ["$.list[?(@.name==='b')].v", "int32", { ok: true, value: 2 }],
    ["$.list[*].v", "int32[]", { ok: true, value: [1, 2] }],
    ["$.missing", "float64", { ok: false, status: "PathNotFound" }],
    ["$.temp.deeper", "float64", { ok: false, status: "PathNotFound" }],
    ["$..nothing", "float64", { ok: false, status: "PathNotFound" }],
  ])("%s (%s)", (path, type, expected) => {
    expect(extract(json(path, type), p(doc))).toEqual(expected);
  });

  it("takes timestamp and quality fields", () => {
    expect(extract(json("$.temp", "float64", { timestampPath: "$.ts", qualityPath: "$.q" }), p(doc))).toEqual(
      {
        ok: true,
        value: 21.5,
        sourceTs: "2025-01-02T03:04:05.000Z",
        quality: "uncertain",
      },
    );
  });

  it.each([
    ['{"v":1,"ts":"yesterday"}', { timestampPath: "$.ts" }, "BadTimestamp"],
    ['{"v":1,"q":"meh"}', { qualityPath: "$.q" }, "BadQualityField"],
    ['{"v":1,"ts":null}', { timestampPath: "$.ts" }, "BadTimestamp"],
    ['{"v":1,"q":null}', { qualityPath: "$.q" }, "BadQualityField"],
    ['{"ts":1700000000000,"q":"good"}', { timestampPath: "$.ts", qualityPath: "$.q" }, "PathNotFound"],
    ["not json", {}, "NotJson"],
    ["", {}, "NotJson"],
  ])("bad input %s → %s", (payload, extra, status) => {
    expect(extract(json("$.v", "float64", extra), p(payload))).toEqual({ ok: false, status });
  });

  // Optional fields that are absent fall back: no sourceTs (the receipt time), no quality (good).
  it.each<[string, Partial<ExtractSpec>, object]>([
    ['{"v":8}', { timestampPath: "$.ts" }, { ok: true, value: 8 }],
    ['{"v":8}', { qualityPath: "$.q" }, { ok: true, value: 8 }],
    ['{"v":8}', { timestampPath: "$.ts", qualityPath: "$.meta.q" }, { ok: true, value: 8 }],
    [
      '{"v":8,"q":false}',
      { timestampPath: "$.ts", qualityPath: "$.q" },
      { ok: true, value: 8, quality: "bad" },
    ],
    ['{"v":8,"ts":5}', { timestampPath: "$.ts", qualityPath: "$.q" }, { ok: true, value: 8, sourceTs: 5 }],
    ['{"v":8,"m":[]}', { timestampPath: "$.m[0].ts", qualityPath: "$.m[?(@.q)].q" }, { ok: true, value: 8 }],
  ])("absent optional fields: %s with %j", (payload, extra, expected) => {
    expect(extract(json("$.v", "float64", extra), p(payload))).toEqual(expected);
  });

  it("whole document when no path", () => {
    expect(extract({ type: "float64", format: "json" }, p("42"))).toEqual({ ok: true, value: 42 });
  });
});

describe("extract raw", () => {
  it.each([
    ["float64", " 21.5\n", { ok: true, value: 21.5 }],
    ["int16", "-3", { ok: true, value: -3 }],
    ["int64", "9007199254740993", { ok: true, value: "9007199254740993" }],
    ["uint64", "1.5", { ok: false, status: "TypeMismatch" }],
    ["float32", "abc", { ok: false, status: "TypeMismatch" }],
    ["float32", "", { ok: false, status: "TypeMismatch" }],
    ["bool", "ON", { ok: true, value: true }],
    ["bool", "0", { ok: true, value: false }],
    ["bool", "maybe", { ok: false, status: "TypeMismatch" }],
    ["string", "hello world", { ok: true, value: "hello world" }],
    ["json", '{"a":1}', { ok: true, value: { a: 1 } }],
    ["json", "{", { ok: false, status: "NotJson" }],
  ])("%s %j", (type, payload, expected) => {
    expect(extract({ type, format: "raw" }, p(payload))).toEqual(expected);
  });

  it("bytes are the payload itself", () => {
    const r = extract({ type: "bytes", format: "raw" }, new ParsedPayload(Uint8Array.of(1, 2, 3)));
    expect(r).toEqual({ ok: true, value: Uint8Array.of(1, 2, 3) });
  });
});

describe("paths", () => {
  it.each([
    ["$.a.b", true],
    ["$.a[0]", true],
    ["$['x y']", true],
    ["$..a", false],
    ["$.a[*]", false],
  ])("isSimplePath(%s) = %s", (path, simple) => expect(isSimplePath(path)).toBe(simple));

  it("simple and library paths agree", () => {
    const doc = { a: { b: [5, 6] } };
    expect(select(doc, "$.a.b[1]", false)).toEqual(select(doc, "$.a.b[?(@ === 6)]", false));
  });
});

describe("encodeCommand", () => {
  it("json wraps, raw writes the value", () => {
    expect(JSON.parse(encodeCommand("json", 5, { point: "sp", ts: "T" }))).toEqual({
      point: "sp",
      value: 5,
      ts: "T",
    });
    expect(encodeCommand("raw", 5, { point: "sp", ts: "T" })).toBe("5");
    expect(encodeCommand("raw", "on", { point: "sp", ts: "T" })).toBe("on");
  });
});
