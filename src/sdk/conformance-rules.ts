/**
 * The pure rules behind the conformance kit: each takes a definition, an adapter object, samples
 * or a schema, and returns the problems found as readable lines (empty when all is well).
 */
import { isDeepStrictEqual } from "node:util";
import semver from "semver";
import type { TObject } from "typebox";
import { QUALITIES } from "../schema/reading.js";
import { normalizeValue, type SampleValue } from "../schema/values.js";
import type { Adapter, AdapterDefinition, Capability, Sample } from "./adapter.js";
import { corePointProperties, type PointConfig } from "./point.js";
import { SDK_VERSION } from "./version.js";

/** Type names the core accepts, for adapters and sinks alike. */
export const TYPE_NAME = /^[a-z][a-z0-9-]*$/;
const CAPABILITIES: readonly Capability[] = ["read", "subscribe", "write", "browse"];

/** The optional adapter methods, each promised by the capability of the same name. */
export const CAPABILITY_METHODS = ["read", "write", "browse"] as const;

/** Problems with a definition's own fields: type name, description, sdk range, capabilities, schemas. */
export function definitionProblems(def: AdapterDefinition<TObject, TObject>): string[] {
  const problems: string[] = [];
  if (!TYPE_NAME.test(def.type)) problems.push(`type ${JSON.stringify(def.type)} must match ${TYPE_NAME}`);
  if (typeof def.description !== "string" || def.description.trim() === "")
    problems.push("description is empty");
  if (typeof def.sdk !== "string" || !semver.validRange(def.sdk)) {
    problems.push(`sdk ${JSON.stringify(def.sdk)} is not a semver range (e.g. ^1.0.0)`);
  } else if (!semver.satisfies(SDK_VERSION, def.sdk)) {
    problems.push(`sdk range ${def.sdk} excludes this SDK, ${SDK_VERSION}`);
  }
  for (const c of def.capabilities)
    if (!CAPABILITIES.includes(c)) problems.push(`unknown capability ${JSON.stringify(c)}`);
  if (new Set(def.capabilities).size !== def.capabilities.length) problems.push("capabilities repeat");
  for (const [name, schema] of [
    ["connectionSchema", def.connectionSchema],
    ["pointSchema", def.pointSchema],
  ] as const) {
    if (schema?.type !== "object") problems.push(`${name} is not an object schema`);
  }
  const clashes = Object.keys(def.pointSchema?.properties ?? {}).filter((k) => k in corePointProperties);
  if (clashes.length > 0) problems.push(`pointSchema redeclares core point fields: ${clashes.join(", ")}`);
  if (typeof def.create !== "function") problems.push("create is not a function");
  return problems;
}

/** Problems matching declared capabilities to the methods an adapter object has. */
export function capabilityProblems(capabilities: readonly Capability[], adapter: Adapter<unknown>): string[] {
  const problems: string[] = [];
  for (const m of ["start", "stop"] as const)
    if (typeof adapter[m] !== "function") problems.push(`${m}() is missing`);
  for (const m of CAPABILITY_METHODS) {
    const declared = capabilities.includes(m);
    const present = typeof adapter[m] === "function";
    if (declared && !present) problems.push(`capability ${m} is declared but ${m}() is missing`);
    if (!declared && present) problems.push(`${m}() exists but capability ${m} is not declared`);
  }
  return problems;
}

/**
 * Problems with `samples` as the answer to reading `points`: one sample per point, valid qualities,
 * a status on every non-good sample, and, as `expect` says, every sample good with a value that fits
 * its point's type, or every sample not good.
 */
export function sampleProblems(
  points: readonly PointConfig<unknown>[],
  samples: unknown,
  expect: "good" | "faulty",
): string[] {
  if (!Array.isArray(samples)) return [`read() resolved to ${typeof samples}, not an array of samples`];
  const problems: string[] = [];
  if (samples.length !== points.length) {
    problems.push(`read() of ${points.length} point(s) returned ${samples.length} sample(s)`);
  }
  const byId = new Map(points.map((p) => [p.id, p]));
  const seen = new Set<string>();
  for (const sample of samples as Sample[]) {
    const point = byId.get(sample?.point);
    if (!point) problems.push(`sample for ${JSON.stringify(sample?.point)}, which was not requested`);
    else if (seen.has(point.id)) problems.push(`more than one sample for ${point.id}`);
    else problems.push(...qualityProblems(point, sample, expect));
    if (point) seen.add(point.id);
  }
  for (const p of points) if (!seen.has(p.id)) problems.push(`no sample for ${p.id}`);
  return problems;
}

function qualityProblems(point: PointConfig<unknown>, sample: Sample, expect: "good" | "faulty"): string[] {
  const quality = sample.quality ?? "good";
  if (!QUALITIES.includes(quality)) {
    return [`${point.id}: quality ${JSON.stringify(quality)} is not one of ${QUALITIES.join(", ")}`];
  }
  if (quality !== "good") {
    const hasStatus = typeof sample.status === "string" && sample.status !== "";
    const problems = hasStatus ? [] : [`${point.id}: ${quality} sample without a status`];
    if (expect === "good") problems.push(`${point.id}: expected good, read ${quality}/${sample.status}`);
    return problems;
  }
  if (expect === "faulty")
    return [`${point.id}: a faulty point read as good (${JSON.stringify(sample.value)})`];
  if (sample.value === null || sample.value === undefined)
    return [`${point.id}: good sample without a value`];
  const n = normalizeValue(point.type, sample.value);
  return n.ok
    ? []
    : [`${point.id}: value ${describe(sample.value)} does not fit type ${point.type} (${n.status})`];
}

function describe(value: unknown): string {
  return typeof value === "bigint" ? `${value}n` : `${JSON.stringify(value)} (${typeof value})`;
}

/** Whether two raw values are the same value of the point's type; float32 compares at single precision. */
export function sameValue(point: PointConfig<unknown>, a: unknown, b: unknown): boolean {
  const na = normalizeValue(point.type, a as SampleValue);
  const nb = normalizeValue(point.type, b as SampleValue);
  if (!na.ok || !nb.ok) return false;
  if (point.type === "float32" && typeof na.value === "number" && typeof nb.value === "number") {
    return Math.fround(na.value) === Math.fround(nb.value);
  }
  return isDeepStrictEqual(na.value, nb.value);
}

type SchemaNode = Record<string, unknown>;
const isNode = (x: unknown): x is SchemaNode => typeof x === "object" && x !== null && !Array.isArray(x);
const hasDescription = (s: unknown) =>
  isNode(s) && typeof s.description === "string" && s.description.trim() !== "";

/**
 * Paths of schema nodes that lack a non-empty `description`: every object property, and every
 * object-shaped union member or array item (a variant's shape needs explaining too). Walks
 * properties, anyOf/oneOf/allOf members, array items and record values, so nested fields count.
 * Paths read like `point.generator<sine>.periodMs`.
 */
export function undocumented(schema: unknown, path: string): string[] {
  if (!isNode(schema)) return [];
  const out: string[] = [];
  for (const [key, sub] of Object.entries(isNode(schema.properties) ? schema.properties : {})) {
    if (!hasDescription(sub)) out.push(`${path}.${key}`);
    out.push(...undocumented(sub, `${path}.${key}`));
  }
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    const members = Array.isArray(schema[key]) ? (schema[key] as unknown[]) : [];
    for (const [i, m] of members.entries()) out.push(...nested(m, `${path}<${variantName(m) ?? i}>`));
  }
  const items = Array.isArray(schema.items) ? schema.items : [schema.items];
  for (const item of items) out.push(...nested(item, `${path}[]`));
  if (isNode(schema.additionalProperties)) out.push(...nested(schema.additionalProperties, `${path}.*`));
  return out;
}

/** An object-shaped union member or array item needs a description; its fields are checked either way. */
function nested(schema: unknown, path: string): string[] {
  if (!isNode(schema)) return [];
  const own = schema.type === "object" && !hasDescription(schema) ? [path] : [];
  return [...own, ...undocumented(schema, path)];
}

/** A tagged union member's tag (e.g. `sine` for `{kind: "sine", …}`), for readable paths. */
function variantName(schema: unknown): string | undefined {
  if (!isNode(schema) || !isNode(schema.properties)) return undefined;
  for (const sub of Object.values(schema.properties))
    if (isNode(sub) && typeof sub.const === "string") return sub.const;
  return undefined;
}
