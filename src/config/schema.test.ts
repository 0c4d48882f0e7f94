import Type from "typebox";
import { Compile } from "typebox/compile";
import { describe, expect, it } from "vitest";
import { type AdapterDefinition, defineAdapter } from "../sdk/adapter.js";
import { GATEWAY_SCHEMA_ID, GatewayTopSchema, GenericDeviceSchema, gatewaySchemaFor } from "./schema.js";

const adapter = (type: string, field: string) =>
  defineAdapter({
    type,
    description: `${type} for tests`,
    sdk: "^1.0.0",
    connectionSchema: Type.Object(
      { [field]: Type.String({ description: `${field}.` }) },
      { additionalProperties: false },
    ),
    pointSchema: Type.Object({ register: Type.Integer({ minimum: 0, description: "Register." }) }),
    capabilities: ["read"],
    create: () => ({ start: async () => {}, stop: async () => {}, read: async () => [] }),
  }) as unknown as AdapterDefinition;

const zeta = adapter("zeta", "url");
const alpha = adapter("alpha", "host");

/** Every object schema with properties, and its path, anywhere in `schema`. */
function objects(schema: unknown, path = "#"): { path: string; node: Record<string, unknown> }[] {
  if (schema === null || typeof schema !== "object") return [];
  const node = schema as Record<string, unknown>;
  const here = node.properties ? [{ path, node }] : [];
  return [
    ...here,
    ...Object.entries(node).flatMap(([key, child]) =>
      Array.isArray(child)
        ? child.flatMap((c, i) => objects(c, `${path}/${key}/${i}`))
        : objects(child, `${path}/${key}`),
    ),
  ];
}

describe("gatewaySchemaFor", () => {
  const schema = gatewaySchemaFor([zeta, alpha]);

  it("is plain JSON with an $id, and devices are a union of each adapter's device schema, by type", () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
    expect((schema as { $id?: string }).$id).toBe(GATEWAY_SCHEMA_ID);
    const items = (
      schema.properties.devices as { items: { anyOf: { properties: { type: { const: string } } }[] } }
    ).items;
    expect(items.anyOf.map((d) => d.properties.type.const)).toEqual(["alpha", "zeta"]);
  });

  it("gives every field a description and rejects unknown keys everywhere", () => {
    const found = objects(schema);
    expect(found.length).toBeGreaterThan(8);
    for (const { path, node } of found) {
      expect(node.additionalProperties, path).toBe(false);
      for (const [key, property] of Object.entries(
        node.properties as Record<string, { description?: unknown }>,
      )) {
        expect(typeof property.description, `${path}/properties/${key}`).toBe("string");
      }
    }
  });

  it("accepts a valid file and rejects what the loader rejects", () => {
    const validator = Compile(schema);
    const device = {
      id: "d1",
      type: "alpha",
      connection: { host: "h" },
      points: [{ id: "p", type: "int16", register: 1 }],
    };
    expect(validator.Check({ version: 1, gateway: "gw", devices: [device] })).toBe(true);
    expect(validator.Check({ version: 1, gateway: "gw", devices: [{ ...device, type: "zeta" }] })).toBe(
      false,
    );
    expect(validator.Check({ version: 1, gateway: "gw", devices: [{ ...device, type: "beta" }] })).toBe(
      false,
    );
    expect(validator.Check({ version: 1, gateway: "g w" })).toBe(false);
    expect(validator.Check({ version: 1, gateway: "gw", http: { port: 65536 } })).toBe(false);
    expect(validator.Check({ version: 1, gateway: "gw", adapters: ["Not A Package"] })).toBe(false);
    expect(
      validator.Check({ version: 1, gateway: "gw", adapters: ["@acme/tagbridge-s7", "tagbridge-x"] }),
    ).toBe(true);
  });

  it("falls back to the core device fields when no adapter is given", () => {
    const devices = gatewaySchemaFor([]).properties.devices as { items: unknown };
    expect(devices.items).toEqual(GenericDeviceSchema);
  });
});

describe("GatewayTopSchema", () => {
  it("has the same top-level fields as the full schema", () => {
    expect(Object.keys(GatewayTopSchema.properties)).toEqual(
      Object.keys(gatewaySchemaFor([alpha]).properties),
    );
  });
});
