/**
 * fast-check arbitraries from TypeBox (JSON Schema) schemas, for the config property test: the
 * keywords our schemas use (type, const, enum, anyOf, properties/required, patternProperties,
 * items, minimum/maximum, minLength/maxLength, pattern), plus, at a small rate, a value of the
 * wrong kind anywhere, so that refused configurations are generated too. Fields whose values
 * reach the network or the file system are never left to chance: `overrides` gives them, by the
 * dotted path of the field (`connection.host`, `points[].address`).
 */
import fc from "fast-check";

type Node = Record<string, unknown>;
const isNode = (x: unknown): x is Node => typeof x === "object" && x !== null && !Array.isArray(x);

/** Arbitraries for fields by dotted path; array items are `[]`. */
export type Overrides = Readonly<Record<string, fc.Arbitrary<unknown>>>;

export interface SchemaArbitraryOptions {
  overrides?: Overrides;
  /** Weight of a wrong-kind value against 100 for a schema-valid one; 0 for none. Default 2. */
  junk?: number;
  /** Longest generated array. Default 3. */
  maxItems?: number;
  /** Widest generated range above an integer's minimum when it has no maximum. Default 2000. */
  span?: number;
}

/** Values of the wrong kind for most fields: what a hand-edited file gets wrong. */
const junkValue = fc.constantFrom<unknown>(null, "", "x", -1, 0.5, true, [], {});

/** Short strings from a small alphabet, so that collisions and edge characters are common. */
export const smallString = (minLength = 0, maxLength = 6) =>
  fc.string({
    unit: fc.constantFrom("a", "b", "Z", "0", "1", "_", ".", ":", "-", "/", " ", "{", "}", "+", "#"),
    minLength,
    maxLength,
  });

/** An arbitrary for values of `schema`, rooted at `path`. */
export function schemaArbitrary(
  schema: unknown,
  options: SchemaArbitraryOptions = {},
  path = "",
): fc.Arbitrary<unknown> {
  const override = options.overrides?.[path];
  if (override) return override;
  const valid = validArbitrary(schema, options, path);
  const junk = options.junk ?? 2;
  return junk > 0
    ? fc.oneof({ arbitrary: valid, weight: 100 }, { arbitrary: junkValue, weight: junk })
    : valid;
}

function validArbitrary(
  schema: unknown,
  options: SchemaArbitraryOptions,
  path: string,
): fc.Arbitrary<unknown> {
  if (!isNode(schema)) return fc.anything();
  if ("const" in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if (Array.isArray(schema.anyOf))
    return fc.oneof(...(schema.anyOf as unknown[]).map((m) => validArbitrary(m, options, path)));
  switch (schema.type) {
    case "object":
      return objectArbitrary(schema, options, path);
    case "array":
      return fc.array(schemaArbitrary(schema.items, options, `${path}[]`), {
        minLength: num(schema.minItems) ?? 0,
        maxLength: Math.max(num(schema.minItems) ?? 0, options.maxItems ?? 3),
      });
    case "integer": {
      const min = num(schema.minimum) ?? -1000;
      const max = num(schema.maximum) ?? min + (options.span ?? 2000);
      return fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max }));
    }
    case "number": {
      const min = num(schema.minimum);
      const max = num(schema.maximum);
      return fc.oneof(
        fc.integer({ min: Math.ceil(min ?? -1000), max: Math.floor(max ?? 1000) }),
        fc.double({ min: min ?? -1e6, max: max ?? 1e6, noNaN: true, noDefaultInfinity: true }),
      );
    }
    case "boolean":
      return fc.boolean();
    case "string":
      return stringArbitrary(schema);
    default:
      return fc.anything();
  }
}

function objectArbitrary(schema: Node, options: SchemaArbitraryOptions, path: string): fc.Arbitrary<unknown> {
  const at = (key: string) => (path === "" ? key : `${path}.${key}`);
  if (isNode(schema.patternProperties)) {
    const [pattern, value] = Object.entries(schema.patternProperties)[0] ?? [];
    const key =
      pattern === "^.*$" || pattern === undefined
        ? smallString(1, 4)
        : fc.stringMatching(new RegExp(pattern));
    return fc.dictionary(key, schemaArbitrary(value, options, at("*")), { maxKeys: 3 });
  }
  const properties = isNode(schema.properties) ? schema.properties : {};
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, sub] of Object.entries(properties)) model[key] = schemaArbitrary(sub, options, at(key));
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  return fc.record(model, { requiredKeys: required.filter((k) => k in model) });
}

function stringArbitrary(schema: Node): fc.Arbitrary<string> {
  const minLength = num(schema.minLength) ?? 0;
  const maxLength = Math.min(num(schema.maxLength) ?? 8, 16);
  if (typeof schema.pattern === "string") {
    return fc
      .stringMatching(new RegExp(schema.pattern))
      .filter((s) => s.length >= minLength && s.length <= (num(schema.maxLength) ?? 64));
  }
  return smallString(minLength, Math.max(minLength, maxLength));
}

const num = (x: unknown): number | undefined => (typeof x === "number" && Number.isFinite(x) ? x : undefined);
