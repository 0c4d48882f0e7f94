import { Compile } from "typebox/compile";
import { describe, expect, it } from "vitest";
import { duplicateSinkIds, globMatcher } from "./config.js";
import { NorthConfigSchema, sinkIdErrors } from "./sink-schema.js";

const check = Compile(NorthConfigSchema);

describe("north config", () => {
  it("accepts each sink type and refuses unknown fields", () => {
    const ok = [
      {
        type: "mqtt",
        id: "uns",
        url: "mqtts://broker:8883",
        tls: { caFile: "/ca.pem" },
        username: "u",
        password: "p",
        payload: "reading",
        qos: "0",
        select: { devices: ["press-*"] },
        buffer: { maxSizeMb: 64, overflow: "drop-newest", syncIntervalMs: 500 },
      },
      { type: "sparkplug", id: "spb", url: "mqtt://b:1883", groupId: "Plant1", primaryHostId: "scada" },
      { type: "nats", id: "js", servers: ["nats://n:4222"], stream: { name: "S", create: "never" } },
    ];
    expect([...check.Errors(ok)]).toEqual([]);
    expect(check.Check([{ ...ok[0], topci: "x" }])).toBe(false);
    expect(check.Check([{ ...ok[0], type: "kafka" }])).toBe(false);
    expect(check.Check([{ ...ok[1], groupId: "a/b" }])).toBe(false);
    expect(check.Check([{ ...ok[0], buffer: { syncIntervalMs: 120_000 } }])).toBe(false);
  });

  it("batch options: enums and bounds; a gateway batch topic cannot name a device", () => {
    const mqtt = { type: "mqtt", id: "uns", url: "mqtt://b:1883", payload: "batch" };
    const batch = {
      by: "gateway",
      topic: "plant/{gateway}/all",
      maxReadings: 2_000,
      maxBytes: 262_144,
      lingerMs: 0,
    };
    expect([...check.Errors([{ ...mqtt, batch }])]).toEqual([]);
    expect(check.Check([{ ...mqtt, batch: { by: "site" } }])).toBe(false);
    expect(check.Check([{ ...mqtt, batch: { maxBytes: 100 } }])).toBe(false);
    expect(check.Check([{ ...mqtt, batch: { lingerMs: -1 } }])).toBe(false);
    expect(check.Check([{ ...mqtt, batchMaxReadings: 10 }])).toBe(false);
    expect(sinkIdErrors([{ ...mqtt, batch } as never])).toEqual([]);
    expect(sinkIdErrors([{ ...mqtt, batch: { by: "device", topic: "t/{device}" } } as never])).toEqual([]);
    expect(sinkIdErrors([{ ...mqtt, batch: { by: "gateway", topic: "t/{device}" } } as never])).toEqual([
      {
        path: ["north", 0, "batch", "topic"],
        message: "a batch by: gateway holds readings of many devices: its topic can use {gateway} only",
      },
    ]);
  });

  it("has a description on every field", () => {
    const missing: string[] = [];
    const walk = (s: Record<string, unknown>, path: string) => {
      for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        if (typeof v.description !== "string") missing.push(`${path}.${k}`);
        walk(v, `${path}.${k}`);
      }
      for (const v of (s.anyOf ?? []) as Record<string, unknown>[]) walk(v, path);
    };
    walk(NorthConfigSchema.items as unknown as Record<string, unknown>, "north[]");
    expect(missing).toEqual([]);
  });

  it("globs match * and ? only, anchored", () => {
    const m = globMatcher(["press-*", "oven?", "a.b"]);
    expect(["press-1", "press-", "oven1", "a.b"].map(m)).toEqual([true, true, true, true]);
    expect(["xpress-1", "oven12", "axb", "oven"].map(m)).toEqual([false, false, false, false]);
    expect(globMatcher(undefined)("anything")).toBe(true);
    expect(duplicateSinkIds([{ id: "a" }, { id: "b" }, { id: "a" }] as never)).toEqual(["a"]);
  });
});
