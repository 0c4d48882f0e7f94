import { describe, expect, it } from "vitest";
import {
  decodePayload,
  encodePayload,
  type MetricIn,
  type Payload,
  READING_TYPES,
  sparkplugTypeOf,
} from "./payload.js";
import { EdgeNodeSession } from "./session.js";
import { buildTopic, groupFilter, parseTopic } from "./topic.js";

describe("topics", () => {
  it.each([
    ["spBv1.0/G/NBIRTH/n1", { group: "G", type: "NBIRTH", edgeNode: "n1" }],
    ["spBv1.0/G/DDATA/n1/d1", { group: "G", type: "DDATA", edgeNode: "n1", device: "d1" }],
    ["spBv1.0/G/NDATA/n1/d1", undefined],
    ["spBv1.0/G/DDATA/n1", undefined],
    ["spBv1.0/STATE/host", undefined],
    ["spAv1.0/G/NBIRTH/n1", undefined],
    ["spBv1.0/G/XDATA/n1", undefined],
  ])("parse %s", (topic, expected) => {
    expect(parseTopic(topic)).toEqual(expected);
    if (expected) expect(buildTopic(expected as never)).toBe(topic);
  });

  it("build refuses bad ids and type/device mismatch", () => {
    expect(() => buildTopic({ group: "G/x", type: "NDATA", edgeNode: "n" })).toThrow();
    expect(() => buildTopic({ group: "G", type: "DCMD", edgeNode: "n" })).toThrow(/needs/);
    expect(groupFilter("G")).toBe("spBv1.0/G/#");
    expect(groupFilter("G", "n1")).toBe("spBv1.0/G/+/n1/#");
  });
});

describe("payload codec", () => {
  const cases: [MetricIn, unknown][] = [
    [{ name: "i8", type: "Int8", value: -5 }, -5],
    [{ name: "i32", type: "Int32", value: -70000 }, -70000],
    [{ name: "u32", type: "UInt32", value: 4294967295 }, 4294967295],
    [{ name: "i64", type: "Int64", value: -42 }, -42],
    [{ name: "big", type: "Int64", value: "-9007199254740993" }, "-9007199254740993"],
    [{ name: "ubig", type: "UInt64", value: "18446744073709551615" }, "18446744073709551615"],
    [{ name: "f", type: "Float", value: 1.5 }, 1.5],
    [{ name: "d", type: "Double", value: 0.1 }, 0.1],
    [{ name: "b", type: "Boolean", value: true }, true],
    [{ name: "s", type: "String", value: "héllo" }, "héllo"],
    [{ name: "t", type: "DateTime", value: 1735689600123 }, 1735689600123],
    [{ name: "n", type: "Double", value: null }, null],
  ];
  it.each(cases)("round-trips %j", (metric, value) => {
    const bytes = encodePayload({
      timestamp: 1000,
      seq: 3,
      metrics: [{ ...metric, alias: 7, timestamp: 999 }],
    });
    const d = decodePayload(bytes);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.payload.seq).toBe(3);
    expect(d.payload.timestamp).toBe(1000);
    expect(d.payload.metrics[0]).toMatchObject({
      name: metric.name,
      alias: "7",
      type: metric.type,
      timestamp: 999,
    });
    expect(d.payload.metrics[0]!.value).toEqual(value);
  });

  it("malformed bytes decode to an error, not a throw", () => {
    expect(decodePayload(Uint8Array.of(0x08)).ok).toBe(false);
    expect(decodePayload(Uint8Array.of(0x12, 0x05, 0x01)).ok).toBe(false);
    expect(decodePayload(Uint8Array.of(0xff, 0xff)).ok).toBe(false);
    expect(decodePayload(Uint8Array.of(0x07)).ok).toBe(false);
  });

  it("maps types both ways", () => {
    expect(READING_TYPES.UInt64).toBe("uint64");
    expect(READING_TYPES.Float).toBe("float32");
    for (const t of ["bool", "int16", "int32", "uint32", "int64", "float64", "string"]) {
      expect(READING_TYPES[sparkplugTypeOf(t)]).toBe(t);
    }
  });
});

const m = (name: string | undefined, alias: string | undefined, value: unknown, type = "Double") =>
  ({ ...(name ? { name } : {}), ...(alias ? { alias } : {}), type, value }) as never;

describe("EdgeNodeSession", () => {
  const born = () => {
    const s = new EdgeNodeSession();
    s.handle("NBIRTH", undefined, {
      seq: 0,
      timestamp: 5,
      metrics: [m("Node/temp", "1", 20), m("bdSeq", undefined, 0, "Int64")],
    });
    s.handle("DBIRTH", "d1", { seq: 1, metrics: [m("rpm", "2", 1000, "Int32")] });
    return s;
  };

  it("births declare metrics and publish their values", () => {
    const s = new EdgeNodeSession();
    const o = s.handle("NBIRTH", undefined, { seq: 0, timestamp: 5, metrics: [m("Node/temp", "1", 20)] });
    expect(o.updates).toEqual([
      { device: undefined, name: "Node/temp", type: "Double", value: 20, timestamp: 5 },
    ]);
    expect(s.born).toBe(true);
  });

  it("resolves aliases in data, with metric timestamps", () => {
    const s = born();
    const o = s.handle("DDATA", "d1", {
      seq: 2,
      timestamp: 10,
      metrics: [{ alias: "2", type: "Int32", value: 5, timestamp: 9 }],
    });
    expect(o).toEqual({
      updates: [{ device: "d1", name: "rpm", type: "Int32", value: 5, timestamp: 9 }],
      deaths: [],
      unknownAliases: 0,
    });
    const n = s.handle("NDATA", undefined, { seq: 3, metrics: [m(undefined, "1", 21)] });
    expect(n.updates[0]).toMatchObject({ device: undefined, name: "Node/temp", value: 21 });
  });

  it.each([
    [
      "seq gap",
      "DDATA",
      "d1",
      { seq: 5, metrics: [m(undefined, "2", 1, "Int32")] },
      /seq gap: expected 2, got 5/,
      1,
      0,
    ],
    ["unknown alias", "DDATA", "d1", { seq: 2, metrics: [m(undefined, "99", 1)] }, /unknown alias 99/, 0, 1],
    [
      "alias of another device",
      "DDATA",
      "d2",
      { seq: 2, metrics: [m(undefined, "2", 1)] },
      /unknown alias 2/,
      0,
      1,
    ],
    ["no seq", "NDATA", undefined, { metrics: [m(undefined, "1", 1)] }, /without seq/, 1, 0],
  ] as const)("%s → rebirth", (_n, type, device, payload, reason, updates, unknown) => {
    const o = born().handle(type, device, payload as never);
    expect(o.rebirth).toMatch(reason);
    expect(o.updates).toHaveLength(updates);
    expect(o.unknownAliases).toBe(unknown);
  });

  it("seq wraps from 255 to 0 without a gap", () => {
    const s = new EdgeNodeSession();
    s.handle("NBIRTH", undefined, { seq: 255, metrics: [m("x", "1", 1)] });
    expect(s.handle("NDATA", undefined, { seq: 0, metrics: [m("x", undefined, 2)] }).rebirth).toBeUndefined();
  });

  it("data before birth asks for rebirth", () => {
    expect(new EdgeNodeSession().handle("NDATA", undefined, { seq: 0, metrics: [] }).rebirth).toMatch(
      /before NBIRTH/,
    );
  });

  it("deaths: DDEATH kills the device, NDEATH the node and every device", () => {
    const s = born();
    expect(s.handle("DDEATH", "d1", { seq: 2, metrics: [] }).deaths).toEqual(["d1"]);
    s.handle("DBIRTH", "d1", { seq: 3, metrics: [] });
    expect(s.handle("NDEATH", undefined, { metrics: [] }).deaths).toEqual([undefined, "d1"]);
    expect(s.born).toBe(false);
    expect(s.declared(undefined, "Node/temp")).toBeUndefined();
  });
});

describe("EdgeNodeSession: NDEATH kills every device of the node, whatever came before", () => {
  type Step = [Parameters<EdgeNodeSession["handle"]>[0], string | undefined, Payload];
  const bd = (v: number | string) => [m("bdSeq", undefined, v, "Int64")];
  const nbirth = (bdSeq: number | string): Step => ["NBIRTH", undefined, { seq: 0, metrics: bd(bdSeq) }];
  const dev = (type: "DBIRTH" | "DDATA" | "DDEATH", device: string, seq: number): Step => [
    type,
    device,
    { seq, metrics: [] },
  ];
  const ndeath = (bdSeq?: number | string): Step => [
    "NDEATH",
    undefined,
    { metrics: bdSeq === undefined ? [] : bd(bdSeq) },
  ];
  const run = (steps: Step[]) => {
    const s = new EdgeNodeSession();
    let o: ReturnType<EdgeNodeSession["handle"]> | undefined;
    for (const [type, device, payload] of steps) o = s.handle(type, device, payload);
    return { s, o: o! };
  };

  it.each<[string, Step[], (string | undefined)[]]>([
    ["birth, NDEATH", [nbirth(0), dev("DBIRTH", "d1", 1), ndeath(0)], [undefined, "d1"]],
    [
      "NBIRTH, DBIRTH, DDEATH, DBIRTH, NDEATH",
      [nbirth(0), dev("DBIRTH", "d1", 1), dev("DDEATH", "d1", 2), dev("DBIRTH", "d1", 3), ndeath(0)],
      [undefined, "d1"],
    ],
    [
      "a device already dead dies again",
      [nbirth(0), dev("DBIRTH", "d1", 1), dev("DDEATH", "d1", 2), ndeath(0)],
      [undefined, "d1"],
    ],
    ["data before any birth (gateway started late)", [dev("DDATA", "d1", 4), ndeath(3)], [undefined, "d1"]],
    [
      "a device of an earlier session",
      [nbirth(0), dev("DBIRTH", "d2", 1), ndeath(0), nbirth(1), dev("DBIRTH", "d1", 1), ndeath(1)],
      [undefined, "d2", "d1"],
    ],
    ["NDEATH without bdSeq", [nbirth(0), dev("DBIRTH", "d1", 1), ndeath()], [undefined, "d1"]],
    ["NBIRTH without bdSeq", [["NBIRTH", undefined, { seq: 0, metrics: [] }], ndeath(7)], [undefined]],
  ])("%s", (_name, steps, deaths) => {
    const { s, o } = run(steps);
    expect(o.ignored).toBeUndefined();
    expect([...o.deaths].sort()).toEqual([...deaths].sort());
    expect(s.born).toBe(false);
  });

  it.each<[string, number | string, number | string, boolean]>([
    ["an older session's will (bdSeq 4 after NBIRTH bdSeq 5) is ignored", 5, 4, true],
    ["matching bdSeq kills", 5, 5, false],
    ["bdSeq beyond 2^53 compares exactly", "18446744073709551615", "18446744073709551615", false],
  ])("%s", (_name, birthBd, deathBd, ignored) => {
    const { s, o } = run([nbirth(birthBd), dev("DBIRTH", "d1", 1), ndeath(deathBd)]);
    expect(o.deaths).toEqual(ignored ? [] : [undefined, "d1"]);
    if (ignored) expect(o.ignored).toMatch(/bdSeq 4 is not the NBIRTH's 5/);
    else expect(o.ignored).toBeUndefined();
    expect(s.born).toBe(ignored);
  });
});
