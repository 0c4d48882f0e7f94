/**
 * compileDefaults against TypeBox's Value.Default, on the schemas a config is checked with (the top
 * level, every built-in adapter's device schema, every built-in sink's entry schema) and on the
 * devices and sinks of every YAML file of the repository, as they are and mutated: keys dropped,
 * values of the wrong kind, union tags changed.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TSchema } from "typebox";
import Value from "typebox/value";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BUILTIN_ADAPTERS } from "../core/builtin-adapters.js";
import { BUILTIN_SINKS } from "../north/builtin-sinks.js";
import { sinkSchemaFor } from "../north/sink-schema.js";
import { deviceSchemaFor } from "../sdk/point.js";
import { compileDefaults } from "./defaults.js";
import { GatewayTopSchema, GenericDeviceSchema } from "./schema.js";

const ROOT = join(import.meta.dirname, "../..");

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === "node_modules" || e.name.startsWith(".") || e.name === "dist") return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(e.name) ? [path] : [];
  });
}

const documents = yamlFiles(ROOT)
  .map((f) => {
    try {
      return parse(readFileSync(f, "utf8")) as unknown;
    } catch {
      return undefined;
    }
  })
  .filter((d): d is Record<string, unknown> => d !== null && typeof d === "object" && !Array.isArray(d));

const listOf = (key: string) =>
  documents.flatMap((d) => (Array.isArray(d[key]) ? (d[key] as Record<string, unknown>[]) : []));

let seed = 19;
const random = (n: number) => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % n;
};
const ODD = [undefined, null, 0, -1, "x", true, [], {}, { kind: "ramp" }, { mode: "percent", value: 2 }];

/** A copy of `value` with a few of its fields (at any depth) dropped or replaced. */
function mutate(value: unknown): unknown {
  const copy = structuredClone(value);
  const containers: Record<string, unknown>[] = [];
  const collect = (v: unknown) => {
    if (v === null || typeof v !== "object") return;
    containers.push(v as Record<string, unknown>);
    for (const item of Object.values(v)) collect(item);
  };
  collect(copy);
  for (let n = 0; n <= random(3); n++) {
    const target = containers[random(containers.length)];
    const keys = target ? Object.keys(target) : [];
    const key = keys[random(Math.max(1, keys.length))];
    if (!target || key === undefined) continue;
    if (random(2) === 0) delete target[key];
    else target[key] = structuredClone(ODD[random(ODD.length)]);
  }
  return copy;
}

function same(schema: TSchema, values: readonly unknown[]): number {
  const apply = compileDefaults(schema);
  for (const value of values) {
    for (const v of [value, mutate(value), mutate(value), mutate(value)]) {
      const expected = Value.Default(schema, structuredClone(v));
      expect(apply(structuredClone(v)), JSON.stringify(v)).toEqual(expected);
    }
  }
  return values.length;
}

describe("compileDefaults", () => {
  it("applies the top level's defaults as Value.Default does", () => {
    expect(same(GatewayTopSchema, [...documents, {}])).toBeGreaterThan(10);
  });

  it("applies each adapter's device defaults as Value.Default does", () => {
    const devices = listOf("devices");
    for (const d of BUILTIN_ADAPTERS) {
      const schema = deviceSchemaFor(d.type, d.connectionSchema, d.pointSchema);
      const own = devices.filter((device) => device.type === d.type);
      expect(own.length, d.type).toBeGreaterThan(0);
      same(schema, [...own, ...devices.slice(0, 5)]);
    }
    same(GenericDeviceSchema, devices);
  });

  it("applies each sink's entry defaults as Value.Default does", () => {
    const sinks = listOf("north");
    for (const d of BUILTIN_SINKS) same(sinkSchemaFor(d), [...sinks, {}]);
  });
});
