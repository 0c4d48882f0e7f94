/**
 * Fuzz test of the HTTP API: every operation of the app's own OpenAPI document is called with
 * random path parameters, query strings, headers and bodies, some shaped by the route's schema (so
 * requests get past validation into the handlers), some junk (bad `%` encodings, wrong types, deep
 * or huge bodies, foreign origins). Whatever comes in, the gateway never answers 500, and every
 * error is the documented `{"error": {code, message, details?}}` with the status of its code. A
 * 5xx other than 500 is only allowed with a code that reports the gateway's state (a device not
 * connected, not ready), never as an accident.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/http/app.js";
import { ERROR_CODES, type ErrorCode } from "../../src/http/errors.js";
import { type Service, startService } from "../../src/service.js";
import { type ApiFixture, apiFixture } from "../helpers/service.js";

interface Schema {
  type?: string | string[];
  pattern?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
}
interface Parameter {
  in: "path" | "query" | "header";
  name: string;
  schema?: Schema;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body?: Schema;
}

/** 5xx codes that report the gateway's or a device's state rather than a failure of the API. */
const STATE_CODES = new Set<ErrorCode>([
  "TB_ERR_DEVICE_NOT_CONNECTED",
  "TB_ERR_DEVICE_ERROR",
  "TB_ERR_NOT_READY",
  "TB_ERR_TOO_MANY_STREAMS",
]);
/** Never fuzzed: an SSE stream that is accepted never ends, so `inject` would wait forever. */
const SKIPPED = new Set(["GET /api/v1/events"]);

const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});
const junkSegment = fc.oneof(
  fc.constantFrom("%", "%zz", "%E0%A4%A", "%00", "%2F", "..", "a%2e%2e", "%C0%AF", "💥", " "),
  printable.map(encodeURIComponent),
  fc.string({ maxLength: 300 }).map(encodeURIComponent),
  fc.nat({ max: 400 }).map((n) => "a".repeat(n)),
);

/** A value that fits `schema` most of the time, to reach the handler; depth-bounded. */
function fromSchema(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return fc.jsonValue({ maxDepth: 2 });
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => fromSchema(s, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string":
      return schema.pattern
        ? fc
            .stringMatching(new RegExp(schema.pattern))
            .map((s) => s.slice(0, schema.maxLength ?? 64))
            .filter((s) => new RegExp(schema.pattern ?? "").test(s))
        : fc.string({ maxLength: Math.min(schema.maxLength ?? 40, 40) });
    case "integer":
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 100_000 });
    case "number":
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array":
      return fc.array(fromSchema(schema.items, depth + 1), { maxLength: 3 });
    case "object": {
      const props = schema.properties ?? {};
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, s] of Object.entries(props)) shape[key] = fromSchema(s, depth + 1);
      return fc.record(shape, { requiredKeys: schema.required?.filter((k) => k in props) ?? [] });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Anything: the schema's shape, any JSON, a wrong type. */
const anyOf = (schema: Schema | undefined) =>
  fc.oneof(
    { weight: 3, arbitrary: fromSchema(schema) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v ?? null))) },
  );

function operations(doc: Awaited<ReturnType<typeof openApiDocument>>): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, raw] of Object.entries(item as Record<string, unknown>)) {
      const op = raw as {
        parameters?: Parameter[];
        requestBody?: { content?: Record<string, { schema?: Schema }> };
      };
      if (SKIPPED.has(`${method.toUpperCase()} ${path}`) || path.startsWith("/docs")) continue;
      const body = op.requestBody?.content?.["application/json"]?.schema;
      out.push({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        ...(body ? { body } : {}),
      });
    }
  }
  return out;
}

function expectDocumented(status: number, text: string, what: string): void {
  expect(status, what).not.toBe(500);
  if (status < 400) return;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${what}: ${status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  const error = (body as { error?: { code?: string; message?: unknown; details?: unknown } }).error;
  expect(Object.keys(body as object), what).toEqual(["error"]);
  expect(typeof error?.message, what).toBe("string");
  const code = error?.code as ErrorCode;
  expect(ERROR_CODES[code]?.status, `${what}: ${text.slice(0, 300)}`).toBe(status);
  if (error?.details !== undefined) {
    expect(Array.isArray(error.details), what).toBe(true);
    for (const d of error.details as { field?: unknown; message?: unknown }[]) {
      expect(typeof d.field, what).toBe("string");
      expect(typeof d.message, what).toBe("string");
    }
  }
  if (status >= 500) expect(STATE_CODES.has(code), `${what}: ${text.slice(0, 300)}`).toBe(true);
}

type Tokens = Record<"viewer" | "operator" | "admin", string>;

/** Fuzzes every operation of `ops` on `app` for at most `ms`. */
async function fuzz(app: FastifyInstance, ops: Operation[], tokens: Tokens, ms: number): Promise<void> {
  const token = fc.constantFrom<"viewer" | "operator" | "admin" | "none" | "junk">(
    "viewer",
    "operator",
    "admin",
    "admin",
    "none",
    "junk",
  );
  // One arbitrary per operation, built once (building them per run costs more than the requests).
  const perOperation = ops.map((op) => {
    const params: Record<string, fc.Arbitrary<string>> = {};
    const query: Record<string, fc.Arbitrary<unknown>> = {};
    for (const p of op.parameters) {
      if (p.in === "path")
        params[p.name] = fc.oneof(
          { weight: 3, arbitrary: fromSchema(p.schema).map((v) => encodeURIComponent(String(v))) },
          { weight: 1, arbitrary: junkSegment },
        );
      if (p.in === "query") query[p.name] = anyOf(p.schema);
    }
    return fc.record({
      op: fc.constant(op),
      params: fc.record(params),
      query: fc.record(query, { requiredKeys: [] }),
      extraQuery: fc.dictionary(printable, printable, { maxKeys: 2 }),
      rawQuery: fc.option(fc.oneof(junkSegment, printable), { nil: undefined }),
      body: fc.option(
        fc.oneof(
          { weight: 4, arbitrary: anyOf(op.body).map((v) => JSON.stringify(v)) },
          { weight: 1, arbitrary: printable },
          { weight: 1, arbitrary: fc.nat({ max: 3000 }).map((n) => `${"[".repeat(n)}${"]".repeat(n)}`) },
          {
            weight: 1,
            arbitrary: fc.constantFrom('{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', "", "{"),
          },
        ),
        { nil: undefined },
      ),
      contentType: fc.constantFrom(
        "application/json",
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        undefined,
      ),
      token,
      origin: fc.option(fc.constantFrom("https://evil.example", "https://scada.example.com", "null"), {
        nil: undefined,
      }),
      extraHeaders: fc.dictionary(
        fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
        printable.filter((v) => v.trim() === v),
        { maxKeys: 2 },
      ),
      method: fc.option(fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"), {
        freq: 6,
        nil: undefined,
      }),
    });
  });
  const request = fc.oneof(...perOperation);

  let runs = 0;
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      runs++;
      let url = r.op.path.replace(/\{(\w+)\}/g, (_m, name: string) => r.params[name] ?? "x");
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(r.query))
        search.set(k, typeof v === "string" ? v : JSON.stringify(v));
      for (const [k, v] of Object.entries(r.extraQuery)) search.set(k, v);
      const qs = [search.toString(), r.rawQuery].filter(Boolean).join("&");
      if (qs) url += `?${qs}`;
      const headers: Record<string, string> = { ...r.extraHeaders };
      if (r.token === "junk") headers.authorization = "Bearer tb_notatoken";
      else if (r.token !== "none") headers.authorization = `Bearer ${tokens[r.token]}`;
      if (r.origin) headers.origin = r.origin;
      if (r.contentType && r.body !== undefined) headers["content-type"] = r.contentType;
      const method = (r.method ?? r.op.method) as "GET" | "HEAD" | "POST";
      // A GET that would open a WebSocket stream cannot here: without an upgrade it is a 426.
      const res = await app.inject({
        method,
        url,
        headers,
        ...(r.body !== undefined && method !== "GET" && method !== "HEAD" ? { payload: r.body } : {}),
      });
      const what = `${method} ${url.slice(0, 200)} → ${res.statusCode}`;
      // A HEAD answer has no body by definition: only its status can be checked.
      if (method === "HEAD") expect(res.statusCode, what).not.toBe(500);
      else expectDocumented(res.statusCode, res.body, what);
    }),
    {
      numRuns: 3000,
      interruptAfterTimeLimit: ms,
      seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31),
    },
  );
  // Bounded by time on a slow machine, but never so short that the property says nothing.
  expect(runs).toBeGreaterThan(200);
}

let f: ApiFixture;
let ops: Operation[];
beforeAll(async () => {
  // A rate limit this suite cannot reach: it is about answers, not about throttling.
  f = await apiFixture(undefined, {
    limits: {
      rateLimit: { max: 1_000_000, windowMs: 60_000 },
      cors: { origins: ["https://scada.example.com"] },
    },
  });
  ops = operations(await openApiDocument(f.app));
});
afterAll(async () => {
  await f.close();
});

describe("HTTP API fuzz", () => {
  it("reads every operation from the OpenAPI document", () => {
    // A broken document would make the fuzz below vacuous.
    expect(ops.length).toBeGreaterThan(25);
    expect(ops.some((o) => o.body)).toBe(true);
    expect(ops.some((o) => o.parameters.some((p) => p.in === "path"))).toBe(true);
  });

  it("answers random requests to every route without a 500, errors in the documented shape", async () => {
    await fuzz(f.app, ops, f.tokens, 8_000);
  }, 30_000);

  it("answers unknown routes and methods in the documented shape", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(junkSegment, { minLength: 1, maxLength: 4 }),
        fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"),
        async (segments, method) => {
          const url = `/${segments.join("/")}`;
          const res = await f.app.inject({
            method,
            url,
            headers: { authorization: `Bearer ${f.tokens.admin}` },
          });
          expectDocumented(res.statusCode, res.body, `${method} ${url.slice(0, 200)}`);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("HTTP API fuzz against a real service", () => {
  // The fixture above stubs the config routes; here they validate and write a real config file.
  let service: Service;
  let tokens: Tokens;
  let real: Operation[];
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "tagbridge-fuzz-"));
    const file = join(dir, "gateway.yaml");
    writeFileSync(
      file,
      `version: 1
gateway: fuzz-gw
dataDir: ${dir}/data
http: { port: 0, rateLimit: { max: 1000000, windowMs: 60000 } }
devices:
  - id: press-1
    type: simulator
    pollIntervalMs: 100
    connection: {}
    points:
      - { id: temp, type: float64, generator: { kind: sine } }
      - { id: setpoint, type: float64, access: readwrite, generator: { kind: constant, value: 1 } }
`,
    );
    service = await startService(file, { logLevel: "silent" });
    const admin = readFileSync(service.adminTokenFile as string, "utf8").trim();
    const make = async (name: string, role: string) =>
      (
        await service.app.inject({
          method: "POST",
          url: "/api/v1/tokens",
          headers: { authorization: `Bearer ${admin}` },
          payload: { name, role },
        })
      ).json().token as string;
    tokens = {
      admin,
      viewer: await make("fuzz-viewer", "viewer"),
      operator: await make("fuzz-op", "operator"),
    };
    real = operations(await openApiDocument(service.app));
  });
  afterAll(async () => {
    await service?.close();
  });

  it("answers random requests, config edits included, without a 500", async () => {
    expect(real.some((o) => o.method === "PUT" && o.path === "/api/v1/devices/{device}")).toBe(true);
    await fuzz(service.app, real, tokens, 8_000);
  }, 30_000);
});
