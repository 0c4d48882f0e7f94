/**
 * The schema of a `north:` entry of one sink type: the core sink fields (config.ts, declared once)
 * plus the type's own `settingsSchema`, as devices are the core device fields plus their
 * adapter's. `northSchemaFor` unions them per type, for editors and the generated JSON Schema.
 */
import Type, { type TObject } from "typebox";
import type { SinkDefinition } from "../sdk/sink.js";
import { BUILTIN_SINKS } from "./builtin-sinks.js";
import { type AnySinkConfig, CORE_SINK_PROPERTIES, duplicateSinkErrors } from "./config.js";
import { settingsOf } from "./context.js";

const schemas = new WeakMap<SinkDefinition, TObject>();

/** The whole entry of a sink type: `type` (the literal), the core fields, then the sink's own settings. */
export function sinkSchemaFor(definition: SinkDefinition): TObject {
  let schema = schemas.get(definition);
  if (!schema) {
    const settings = definition.settingsSchema as TObject & { description?: unknown };
    schema = Type.Object(
      {
        type: Type.Literal(definition.type, { description: definition.description }),
        ...CORE_SINK_PROPERTIES,
        ...settings.properties,
      },
      {
        additionalProperties: false,
        description:
          typeof settings.description === "string" ? settings.description : `${definition.type} sink.`,
      },
    );
    schemas.set(definition, schema);
  }
  return schema;
}

/** The `north:` array's schema with a union of the given sink types' entries. */
export function northSchemaFor(definitions: readonly SinkDefinition[]) {
  const types = definitions.map((d) => d.type);
  const list =
    types.length > 1 ? `${types.slice(0, -1).join(", ")} or ${types.at(-1)}` : (types[0] ?? "(none)");
  return Type.Array(
    Type.Union(definitions.map(sinkSchemaFor), { description: `A north sink, by type: ${list}.` }),
    {
      description: "North sinks: where readings are published, each with a durable store-and-forward buffer.",
    },
  );
}

/** The `north:` array of the built-in sinks. */
export const NorthConfigSchema = northSchemaFor(BUILTIN_SINKS);
/** One built-in sink entry. */
export const SinkConfigSchema = NorthConfigSchema.items;

/** Finds the definition of a sink `type`. */
export type SinkLookup = (type: string) => SinkDefinition | undefined;

const builtin: SinkLookup = (type) => BUILTIN_SINKS.find((d) => d.type === type);

/**
 * Config errors of schema-valid `north:` entries that a schema cannot express: each repeated sink
 * id (the second and later occurrences), and each sink definition's own `check()` (e.g. the mqtt
 * sink's batch topic by: gateway), at their paths (`north[2].batch.topic`).
 */
export function sinkIdErrors(
  sinks: readonly { id: string; type: string }[],
  lookup: SinkLookup = builtin,
): { path: (string | number)[]; message: string }[] {
  const errors = duplicateSinkErrors(sinks);
  sinks.forEach((s, i) => {
    const definition = lookup(s?.type);
    if (!definition?.check) return;
    for (const p of definition.check(settingsOf(s as AnySinkConfig)))
      errors.push({ path: ["north", i, ...p.path], message: p.message });
  });
  return errors.sort((a, b) => Number(a.path[1]) - Number(b.path[1]));
}
