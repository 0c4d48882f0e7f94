/**
 * Schema defaults applied to a value, as TypeBox's `Value.Default` applies them, but prepared once
 * per schema: parts of the schema without a default anywhere below are skipped, and a union picks
 * its branch with compiled checks (and without trying a tagged branch whose tag the value does not
 * carry). `Value.Default` walks the schema and interprets each union branch's check for every
 * value, which took most of the time of loading 100,000 points.
 */
import {
  IsArray,
  IsCyclic,
  IsIntersect,
  IsObject,
  IsOptional,
  IsRecord,
  IsRef,
  IsTuple,
  IsUnion,
  type TSchema,
} from "typebox";
import { Compile } from "typebox/compile";
import Value from "typebox/value";

/** Applies defaults to `value` (mutating it, as `Value.Default` does) and returns the result. */
export type Defaults = (value: unknown) => unknown;

const identity: Defaults = (value) => value;

const isObjectLike = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/** A deep copy of a value read from YAML or JSON (plain objects, arrays and primitives). */
function clone(value: unknown): unknown {
  if (!isObjectLike(value)) return value;
  if (Array.isArray(value)) return value.map(clone);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (key === "__proto__")
      Object.defineProperty(out, key, {
        value: clone(value[key]),
        writable: true,
        enumerable: true,
        configurable: true,
      });
    else out[key] = clone(value[key]);
  }
  return out;
}

/** Whether any default is declared in `schema` or below it. */
function hasDefaults(schema: unknown): boolean {
  if (!isObjectLike(schema)) return false;
  if (Array.isArray(schema)) return schema.some(hasDefaults);
  if ("default" in schema) return true;
  return Object.entries(schema).some(([key, sub]) => key !== "const" && key !== "enum" && hasDefaults(sub));
}

/** The required literal fields of an object schema (`kind: "sine"`): a value with another literal there cannot pass. */
function tagsOf(schema: TSchema): [string, unknown][] {
  if (!IsObject(schema)) return [];
  const required = new Set((schema as { required?: string[] }).required ?? []);
  return Object.entries(schema.properties as Record<string, Record<string, unknown>>).filter(
    ([key, p]) => required.has(key) && "const" in p && !("default" in p),
  ) as [string, unknown][];
}

function union(schema: TSchema): Defaults {
  const branches = (schema as unknown as { anyOf: TSchema[] }).anyOf.map((inner) => ({
    tags: tagsOf(inner).map(([key, p]) => [key, (p as { const: unknown }).const] as const),
    apply: compileDefaults(inner),
    check: Compile(inner),
  }));
  return (value) => {
    for (const branch of branches) {
      if (isObjectLike(value) && branch.tags.some(([k, v]) => value[k] !== undefined && value[k] !== v))
        continue;
      // A branch with nothing to default is checked on the value itself rather than on a copy.
      const result = branch.apply === identity ? value : branch.apply(clone(value));
      if (branch.check.Check(result)) return result;
    }
    return value;
  };
}

function object(schema: TSchema): Defaults {
  const s = schema as unknown as {
    properties: Record<string, TSchema>;
    additionalProperties?: unknown;
  };
  const known = Object.getOwnPropertyNames(s.properties);
  const properties = known.map((key) => {
    const property = s.properties[key] as TSchema;
    const skip = IsOptional(property) || !("default" in property);
    return { key, apply: compileDefaults(property), skip };
  });
  const additional =
    isObjectLike(s.additionalProperties) && !Array.isArray(s.additionalProperties)
      ? compileDefaults(s.additionalProperties as TSchema)
      : undefined;
  const knownSet = new Set(known);
  return (value) => {
    if (!isObjectLike(value)) return value;
    for (const { key, apply, skip } of properties) {
      const v = apply(value[key]);
      if (v === undefined && skip) continue;
      value[key] = v;
    }
    if (additional)
      for (const key of Object.getOwnPropertyNames(value))
        if (!knownSet.has(key)) value[key] = additional(value[key]);
    return value;
  };
}

/** Prepares `schema`'s defaults; the result may be called for any number of values. */
export function compileDefaults(schema: TSchema): Defaults {
  if (!hasDefaults(schema)) return identity;
  // Kinds the config schemas do not use are left to TypeBox itself.
  if (IsCyclic(schema) || IsIntersect(schema) || IsRecord(schema) || IsRef(schema) || IsTuple(schema))
    return (value) => Value.Default(schema, value);
  const own = "default" in schema;
  const fallback = (schema as { default?: unknown }).default;
  const withOwn = (value: unknown) =>
    !own || value !== undefined ? value : typeof fallback === "function" ? fallback() : clone(fallback);
  let inner: Defaults = identity;
  if (IsArray(schema)) {
    const items = compileDefaults(schema.items as TSchema);
    inner = (value) => {
      if (Array.isArray(value)) for (let i = 0; i < value.length; i++) value[i] = items(value[i]);
      return value;
    };
  } else if (IsObject(schema)) inner = object(schema);
  else if (IsUnion(schema)) inner = union(schema);
  return (value) => inner(withOwn(value));
}
