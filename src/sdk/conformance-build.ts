/**
 * The conformance kit's build check: `validate` accepts exactly what `run` can build. On every
 * schema-valid device, `check()` must not throw, and whatever it accepts `create()` must build;
 * what `create()` would refuse, `check()` must refuse first, with a path.
 *
 * The devices are derived from known-good ones and the adapter's schemas: the device itself, then one variant per schema alternative of each field,
 * one field changed at a time (every enum value, both booleans, an integer's bounds, each union
 * member, an optional field left out or filled in). That is where `check()` and `create()` tend to
 * disagree: a transport chosen without the fields it needs, an identity kind without its files, a
 * point type the address cannot hold. Deterministic, no randomness, no I/O.
 */

import type { TObject } from "typebox";
import type { AdapterDefinition } from "./adapter.js";
import { pointSchemaFor } from "./point.js";
import { type ProbedDevice, probeDevice, text } from "./probe.js";
import { createTestContext, type TestContext } from "./testing.js";

type Node = Record<string, unknown>;
const isNode = (x: unknown): x is Node => typeof x === "object" && x !== null && !Array.isArray(x);

/** A device as the kit checks it: `connection` settings and points, as config would hold them. */
export interface SampleDevice {
  settings: unknown;
  points: readonly unknown[];
}

/** A derived device and what was changed to get it, e.g. `connection.transport = "rtu"`. */
export interface Variant extends SampleDevice {
  change: string;
}

/** Values to try for a field of `schema`, each valid for it as far as the schema alone says. */
export function alternatives(schema: unknown, current: unknown): unknown[] {
  if (!isNode(schema)) return [];
  if ("const" in schema) return [schema.const];
  if (Array.isArray(schema.enum)) return [...schema.enum];
  if (Array.isArray(schema.anyOf)) return schema.anyOf.flatMap((m) => alternatives(m, current).slice(0, 1));
  switch (schema.type) {
    case "boolean":
      return [true, false];
    case "integer":
    case "number": {
      const bounds = [schema.minimum, schema.maximum].filter((n) => typeof n === "number");
      return bounds.length > 0 ? bounds : [schema.type === "integer" ? 1 : 1.5];
    }
    case "string":
      if (typeof schema.default === "string") return [schema.default];
      // A pattern cannot be satisfied blindly; only a value already there is known to match it.
      if (typeof schema.pattern === "string") return typeof current === "string" ? [current] : [];
      return ["x".repeat(Math.max(1, typeof schema.minLength === "number" ? schema.minLength : 1))];
    case "object":
      return minimal(schema, current) === undefined ? [] : [minimal(schema, current)];
    case "array":
      return [[]];
    default:
      return [];
  }
}

/** The smallest object `schema` accepts, built from `current` where it has the field; undefined when none can be built. */
function minimal(schema: Node, current: unknown): Node | undefined {
  const properties = isNode(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  const base = isNode(current) ? current : {};
  const out: Node = {};
  for (const key of required) {
    const value = key in base ? base[key] : alternatives(properties[key], undefined)[0];
    if (value === undefined) return undefined;
    out[key] = value;
  }
  return out;
}

/**
 * One-field variants of `object` against its object `schema`, each with its change named under
 * `where`. Nested objects present in `object` are varied field by field too.
 */
export function objectVariants(
  schema: unknown,
  object: unknown,
  where: string,
): { value: Node; change: string }[] {
  if (!isNode(schema) || !isNode(schema.properties)) return [];
  const base = isNode(object) ? object : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const out: { value: Node; change: string }[] = [];
  const seen = new Set<string>();
  const add = (value: Node, change: string) => {
    const key = JSON.stringify(value);
    if (key === JSON.stringify(base) || seen.has(key)) return;
    seen.add(key);
    out.push({ value, change });
  };
  for (const [key, sub] of Object.entries(schema.properties)) {
    const path = `${where}.${key}`;
    if (!required.has(key) && key in base) {
      const { [key]: _, ...rest } = base;
      add(rest, `${path} left out`);
    }
    for (const value of alternatives(sub, base[key]))
      add({ ...base, [key]: value }, `${path} = ${JSON.stringify(value)}`);
    if (isNode(base[key])) {
      for (const member of isNode(sub) && Array.isArray(sub.anyOf) ? sub.anyOf : [sub]) {
        for (const v of objectVariants(member, base[key], path)) add({ ...base, [key]: v.value }, v.change);
      }
    }
  }
  return out;
}

/** Points of each sample whose fields are varied. */
const POINTS_VARIED = 3;

/**
 * The devices the build check runs on: each sample as given, then its one-field variants: of
 * the connection settings against `connectionSchema`, and of each of the first few points against `pointSchema`
 * (the core point fields with the adapter's, as config holds them).
 */
export function sampleVariants(
  samples: readonly SampleDevice[],
  connectionSchema: unknown,
  pointSchema: unknown,
): Variant[] {
  const out: Variant[] = [];
  for (const [n, sample] of samples.entries()) {
    const tag = samples.length > 1 ? `sample ${n}: ` : "";
    out.push({ ...sample, change: `${tag}as given` });
    for (const v of objectVariants(connectionSchema, sample.settings, "connection"))
      out.push({ settings: v.value, points: sample.points, change: tag + v.change });
    // Points are varied one at a time; the first few of each sample show what varying them finds.
    for (const [i, point] of sample.points.slice(0, POINTS_VARIED).entries()) {
      for (const v of objectVariants(pointSchema, point, `points[${i}]`)) {
        const points = sample.points.map((p, j) => (j === i ? v.value : p));
        out.push({ settings: sample.settings, points, change: tag + v.change });
      }
    }
  }
  return out;
}

/** What the build check found: problems as readable lines, and how many devices it ran on. */
export interface BuildReport {
  problems: string[];
  /** Schema-valid devices checked. */
  checked: number;
  /** Of those, the ones check() refused. */
  refused: number;
}

/**
 * The build rule (`validate` accepts exactly what `run` can build): on every schema-valid device
 * among `variants`, `check()` must not throw and must give each problem a path; whatever it
 * accepts, `create()` must build without throwing. Variants the schemas refuse are skipped: the
 * core refuses those before the adapter sees them.
 */
export function buildRuleProblems(
  def: AdapterDefinition<TObject, TObject>,
  variants: readonly Variant[],
): BuildReport {
  const report: BuildReport = { problems: [], checked: 0, refused: 0 };
  for (const v of variants) {
    let ctx: TestContext<unknown, unknown>["ctx"];
    try {
      ctx = createTestContext(def, { settings: v.settings, points: v.points }).ctx;
    } catch {
      continue; // not schema-valid
    }
    report.checked++;
    const device = { connection: ctx.settings, points: ctx.points as ProbedDevice["points"] };
    const outcome = probeDevice(def as unknown as AdapterDefinition, device);
    const at = `${v.change}: `;
    if (outcome.kind === "check threw")
      report.problems.push(`${at}check() threw on a schema-valid device: ${text(outcome.error)}`);
    else if (outcome.kind === "create threw")
      report.problems.push(`${at}check() accepted it but create() threw: ${text(outcome.error)}`);
    else if (outcome.kind === "refused") {
      report.refused++;
      for (const p of outcome.problems)
        if (!Array.isArray(p?.path) || typeof p?.message !== "string")
          report.problems.push(
            `${at}check() returned a problem without a path array and message: ${JSON.stringify(p)}`,
          );
    }
  }
  return report;
}

/**
 * Runs the build rule on `samples` and on their one-field variants against the adapter's
 * connection schema and its point schema merged with the core point fields.
 */
export function buildCheck(
  def: AdapterDefinition<TObject, TObject>,
  samples: readonly SampleDevice[],
): BuildReport {
  const variants = sampleVariants(samples, def.connectionSchema, pointSchemaFor(def.pointSchema));
  return buildRuleProblems(def, variants);
}
