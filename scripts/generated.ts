/**
 * Every generated file and section, computed from the code. `npm run generate` writes them;
 * test/generated.test.ts fails when a committed copy drifts from what this computes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Type, { type TSchema } from "typebox";
import { GatewayTopSchema, gatewaySchemaFor } from "../src/config/schema.js";
import { BUILTIN_ADAPTERS } from "../src/core/builtin-adapters.js";
import { deviceCounterMetric, EXPORTED_COUNTERS } from "../src/core/metrics.js";
import { errorCodeTable } from "../src/http/errors.js";
import { DeviceCountersSchema } from "../src/schema/device-counters.js";
import { ReadingSchema } from "../src/schema/reading.js";
import { CompactBatchSchema } from "../src/schema/reading-batch.js";
import { CorePointSchema, coreDeviceProperties } from "../src/sdk/point.js";
import { fieldRows, fieldTable, replaceSection, unionTables } from "./docs.js";

export const ROOT = join(import.meta.dirname, "..");

const json = (schema: unknown) => `${JSON.stringify(schema, null, 2)}\n`;

function readingTable(): string {
  return [
    "| field | type | required | default | description |",
    "| --- | --- | --- | --- | --- |",
    ...fieldRows(ReadingSchema),
  ].join("\n");
}

function countersTable(): string {
  const props = DeviceCountersSchema.properties as Record<string, { description?: string }>;
  const exported = new Set<string>(EXPORTED_COUNTERS);
  return [
    "| counter | /metrics | meaning |",
    "| --- | --- | --- |",
    ...Object.entries(props).map(
      ([key, p]) =>
        `| \`${key}\` | ${exported.has(key) ? `\`${deviceCounterMetric(key as keyof typeof DeviceCountersSchema.properties)}\`` : ""} | ${(p.description ?? "").replaceAll("|", "\\|")} |`,
    ),
  ].join("\n");
}

function errorTable(): string {
  return [
    "| code | HTTP status | meaning |",
    "| --- | --- | --- |",
    ...errorCodeTable().map((e) => `| \`${e.code}\` | ${e.status} | ${e.description} |`),
  ].join("\n");
}

function pointsDoc(pointSchema: TSchema): string {
  const unions = Object.entries(
    (pointSchema as { properties: Record<string, { anyOf?: unknown[] }> }).properties,
  ).filter(([, p]) => Array.isArray(p.anyOf));
  const parts = [fieldTable(pointSchema)];
  for (const [name, union] of unions)
    parts.push(unionTables(union as TSchema, (kind) => `#### \`${name}\` kind \`${kind}\``));
  return parts.join("\n\n");
}

function withSections(path: string, sections: Record<string, string>): string {
  let text = readFileSync(join(ROOT, path), "utf8");
  for (const [name, content] of Object.entries(sections)) text = replaceSection(text, name, content);
  return text;
}

/** Path (relative to the repository root) → content. */
export async function generatedFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  files.set("config/reading.v1.schema.json", json(ReadingSchema));
  files.set("config/reading-batch.v1.schema.json", json(CompactBatchSchema));
  files.set("config/gateway.v1.schema.json", json(gatewaySchemaFor(BUILTIN_ADAPTERS)));
  files.set(
    "README.md",
    withSections("README.md", {
      "config-gateway": fieldTable(GatewayTopSchema),
      "config-device": fieldTable(Type.Object(coreDeviceProperties)),
      "config-point": fieldTable(CorePointSchema),
      reading: readingTable(),
      "device-counters": countersTable(),
      "error-codes": errorTable(),
      routes: await routesTable(),
    }),
  );
  for (const d of BUILTIN_ADAPTERS) {
    const readme = `adapters/${d.type}/README.md`;
    files.set(
      readme,
      withSections(readme, { connection: fieldTable(d.connectionSchema), points: pointsDoc(d.pointSchema) }),
    );
  }
  return files;
}

/** The API's routes as a markdown table, read from a fully optioned app's route table. */
export async function routesTable(): Promise<string> {
  const { buildApp } = await import("../src/http/app.js");
  const { TokenStore } = await import("../src/http/auth/tokens.js");
  const { AuditLog } = await import("../src/core/audit.js");
  const { AdapterRegistry } = await import("../src/core/registry.js");
  const { testGateway } = await import("../test/helpers/gateway-view.js");
  const pino = (await import("pino")).default;
  const { Registry } = await import("prom-client");
  const none = async () => ({ ok: true as const });
  const app = await buildApp({
    gateway: testGateway(),
    logger: pino({ level: "silent" }),
    auth: { tokens: TokenStore.memory() },
    audit: new AuditLog("/nonexistent/audit.jsonl"),
    history: { query: async () => ({ kind: "samples", samples: [], truncated: false }) },
    config: { masked: () => ({}), reload: none, edit: none },
    registry: new AdapterRegistry(),
    certificates: BUILTIN_ADAPTERS.filter((d) => d.certificates).map((d) => ({
      type: d.type,
      store: d.certificates!("/nonexistent"),
    })),
    north: { status: () => [] },
    metrics: new Registry(),
    docs: false,
  });
  await app.ready();
  const rows = app.routeTable
    .filter((r) => r.method !== "HEAD" && !r.url.startsWith("/docs"))
    .map((r) => `| \`${r.method} ${r.url}\` | ${r.role ?? "admin"} | ${r.summary ?? ""} |`);
  await app.close();
  return ["| route | role | what |", "| --- | --- | --- |", ...rows].join("\n");
}
