import type { FastifyInstance } from "fastify";
import pino from "pino";
import { Registry } from "prom-client";
import type { TSchema } from "typebox";
import { Compile } from "typebox/compile";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loopbackViewer, reading, type TestGateway, testGateway } from "../../test/helpers/gateway-view.js";
import { isReading, type Reading, ReadingSchema } from "../schema/reading.js";
import { buildApp, openApiDocument } from "./app.js";
import { ERROR_CODES, type ErrorResponse, errorCodeTable } from "./errors.js";

const logger = pino({ level: "silent" });
let gateway: TestGateway;
let app: FastifyInstance;

beforeEach(async () => {
  gateway = testGateway();
  app = await buildApp({ gateway, logger, auth: loopbackViewer(), docs: false });
});
afterEach(async () => {
  await app.close();
});

async function getJson<T>(url: string, status = 200): Promise<T> {
  const res = await app.inject(url);
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  return res.json<T>();
}

async function expectError(
  url: string,
  status: number,
  code: keyof typeof ERROR_CODES,
): Promise<ErrorResponse> {
  const body = await getJson<ErrorResponse>(url, status);
  expect(body.error.code).toBe(code);
  expect(body.error.message).toBe(ERROR_CODES[code].message);
  return body;
}

describe("health", () => {
  it("healthz is ok while readyz follows gateway.ready()", async () => {
    expect(await getJson("/healthz")).toEqual({ status: "ok" });
    expect(await getJson("/readyz")).toEqual({ status: "ready" });
    gateway.isReady = false;
    await expectError("/readyz", 503, "TB_ERR_NOT_READY");
    expect(await getJson("/healthz")).toEqual({ status: "ok" });
  });
});

describe("devices", () => {
  it("lists both devices with state and counters", async () => {
    const devices =
      await getJson<{ id: string; state: string; counters: { reads: number } }[]>("/api/v1/devices");
    expect(devices.map((d) => d.id)).toEqual(["press-1", "oven-2"]);
    expect(devices[1]).toMatchObject({
      state: "disconnected",
      stateReason: "ECONNREFUSED",
      counters: { reads: 3 },
    });
  });

  it("returns one device, and a coded 404 for an unknown one", async () => {
    expect(await getJson("/api/v1/devices/oven-2")).toEqual(gateway.device("oven-2"));
    const body = await expectError("/api/v1/devices/nope", 404, "TB_ERR_DEVICE_NOT_FOUND");
    expect(body.error.details).toEqual([{ field: "params/device", message: 'no device "nope"' }]);
  });

  it("lists points with their latest reading", async () => {
    const r = reading("press-1", "temp", 80.25);
    gateway.bus.publish([r]);
    const points = await getJson<{ id: string; latest?: Reading }[]>("/api/v1/devices/press-1/points");
    expect(points.map((p) => p.id)).toEqual(["temp", "pressure"]);
    expect(points[0]?.latest).toEqual(r);
    expect(points[1]?.latest).toBeUndefined();
    await expectError("/api/v1/devices/nope/points", 404, "TB_ERR_DEVICE_NOT_FOUND");
  });

  it("returns one point, and coded 404s for unknown device or point", async () => {
    expect(await getJson("/api/v1/devices/oven-2/points/temp")).toMatchObject({
      id: "temp",
      address: "ns=2;s=Oven.Temp",
    });
    await expectError("/api/v1/devices/oven-2/points/pressure", 404, "TB_ERR_POINT_NOT_FOUND");
    await expectError("/api/v1/devices/nope/points/temp", 404, "TB_ERR_DEVICE_NOT_FOUND");
  });

  it("rejects a malformed device id with 400", async () => {
    const body = await expectError("/api/v1/devices/%2E%2E%2Fx", 400, "TB_ERR_BAD_REQUEST");
    expect(body.error.details?.[0]?.field).toBe("params/device");
  });
});

describe("plan and browse", () => {
  it("serves an adapter's read plan, and coded 404s when there is none or no device", async () => {
    expect(await getJson("/api/v1/devices/press-1/plan")).toEqual({
      requests: [{ unitId: 1, table: "holding", address: 0, count: 4 }],
    });
    await expectError("/api/v1/devices/oven-2/plan", 404, "TB_ERR_NOT_SUPPORTED");
    await expectError("/api/v1/devices/nope/plan", 404, "TB_ERR_DEVICE_NOT_FOUND");
  });

  it("browses a node; a disconnected device is 503, a device error 502, junk 400", async () => {
    expect(await getJson("/api/v1/devices/press-1/browse?node=ns%3D2%3Bs%3DLine")).toEqual([
      {
        id: "ns=2;s=Line/temp",
        name: "temp",
        kind: "Variable",
        type: "float64",
        access: "read",
        hasChildren: false,
      },
    ]);
    await expectError("/api/v1/devices/oven-2/browse", 503, "TB_ERR_DEVICE_NOT_CONNECTED");
    const failed = await expectError("/api/v1/devices/press-1/browse?node=bad", 502, "TB_ERR_DEVICE_ERROR");
    expect(failed.error.details?.[0]?.message).toBe("BadNodeIdUnknown");
    await expectError("/api/v1/devices/press-1/browse?nodes=x", 400, "TB_ERR_BAD_REQUEST");
    await expectError("/api/v1/devices/nope/browse", 404, "TB_ERR_DEVICE_NOT_FOUND");
  });
});

describe("latest readings", () => {
  const published = [
    reading("press-1", "temp", 1),
    reading("press-1", "pressure", 2),
    reading("oven-2", "temp", 3),
    reading("press-1", "temp", 4),
  ];
  beforeEach(() => gateway.bus.publish(published));
  const values = async (query: string) =>
    (await getJson<Reading[]>(`/api/v1/readings/latest${query}`))
      .map((r) => `${r.device}/${r.point}=${r.value}`)
      .sort();

  it("returns the latest of every point without a filter", async () => {
    expect(await values("")).toEqual(["oven-2/temp=3", "press-1/pressure=2", "press-1/temp=4"]);
  });

  it("filters by comma-separated devices and points", async () => {
    expect(await values("?device=press-1")).toEqual(["press-1/pressure=2", "press-1/temp=4"]);
    expect(await values("?point=temp")).toEqual(["oven-2/temp=3", "press-1/temp=4"]);
    expect(await values("?device=press-1,oven-2&point=pressure")).toEqual(["press-1/pressure=2"]);
    expect(await values("?device=unknown")).toEqual([]);
  });

  it("serializes readings unchanged", async () => {
    const [r] = await getJson<Reading[]>("/api/v1/readings/latest?device=oven-2");
    expect(r).toEqual(published[2]);
    expect(isReading(r)).toBe(true);
  });

  it.each([
    ["?device=../x", "querystring/device"],
    ["?device=a,,b", "querystring/device"],
    ["?point=x%20y", "querystring/point"],
    ["?device=", "querystring/device"],
    ["?devices=press-1", "querystring/devices"],
  ])("answers %s with 400 TB_ERR_BAD_REQUEST naming %s", async (query, field) => {
    const body = await expectError(`/api/v1/readings/latest${query}`, 400, "TB_ERR_BAD_REQUEST");
    expect(body.error.details?.map((d) => d.field)).toEqual([field]);
  });
});

describe("reading schema route", () => {
  it("serves the Reading JSON Schema, which validates a sample reading", async () => {
    const res = await app.inject("/api/v1/schema/reading");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/schema\+json/);
    const served = res.json<Record<string, unknown>>();
    expect(served).toEqual(JSON.parse(JSON.stringify(ReadingSchema)));
    expect(served.$id).toBe("https://tagbridge.dev/schema/reading.v1.json");
    const sample = reading("press-1", "temp");
    expect(isReading(sample)).toBe(true);
    const validator = Compile(served as unknown as TSchema);
    expect(validator.Check(sample)).toBe(true);
    expect(validator.Check({ ...sample, quality: "excellent" })).toBe(false);
  });
});

describe("errors", () => {
  it("answers unknown routes with TB_ERR_ROUTE_NOT_FOUND", async () => {
    const body = await expectError("/api/v1/nothing?x=1", 404, "TB_ERR_ROUTE_NOT_FOUND");
    expect(body.error.details).toEqual([{ field: "url", message: "no route for GET /api/v1/nothing" }]);
  });

  it("maps unexpected failures to TB_ERR_INTERNAL without leaking the cause", async () => {
    gateway.devices = () => {
      throw new Error("secret database password");
    };
    const body = await expectError("/api/v1/devices", 500, "TB_ERR_INTERNAL");
    expect(JSON.stringify(body)).not.toContain("secret");
  });

  it("answers a plain GET on the WebSocket route with 426", async () => {
    const res = await app.inject("/api/v1/stream");
    expect(res.statusCode).toBe(426);
    expect(res.headers.upgrade).toBe("websocket");
    expect(res.json<ErrorResponse>().error.code).toBe("TB_ERR_UPGRADE_REQUIRED");
  });

  it("has unique, well-formed codes with a status each", () => {
    const rows = errorCodeTable();
    expect(rows.length).toBeGreaterThanOrEqual(7);
    for (const row of rows) {
      expect(row.code).toMatch(/^TB_ERR_[A-Z_]+$/);
      expect(row.status).toBeGreaterThanOrEqual(400);
      expect(row.message.length).toBeGreaterThan(0);
    }
  });
});

describe("metrics and docs", () => {
  it("serves prometheus text when a registry is given, and 404 otherwise", async () => {
    expect((await app.inject("/metrics")).statusCode).toBe(404);
    const registry = new Registry();
    const withMetrics = await buildApp({
      gateway,
      logger,
      auth: loopbackViewer(),
      metrics: registry,
      docs: false,
    });
    const res = await withMetrics.inject("/metrics");
    await withMetrics.close();
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe(registry.contentType);
    expect(res.body).toContain("# TYPE tagbridge_http_stream_dropped_readings_total counter");
  });

  it("serves Swagger UI at /docs only when docs are on", async () => {
    expect((await app.inject("/docs")).statusCode).toBe(404);
    const withDocs = await buildApp({ gateway, logger, auth: loopbackViewer() });
    const res = await withDocs.inject("/docs/json");
    await withDocs.close();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toHaveProperty("openapi");
  });

  it("documents every route with a success and an error response", async () => {
    const withMetrics = await buildApp({
      gateway,
      logger,
      auth: loopbackViewer(),
      metrics: new Registry(),
      docs: false,
    });
    const doc = (await openApiDocument(withMetrics)) as unknown as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    };
    await withMetrics.close();
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/api/v1/devices",
      "/api/v1/devices/{device}",
      "/api/v1/devices/{device}/browse",
      "/api/v1/devices/{device}/plan",
      "/api/v1/devices/{device}/points",
      "/api/v1/devices/{device}/points/{point}",
      "/api/v1/events",
      "/api/v1/readings/latest",
      "/api/v1/schema/reading",
      "/api/v1/stream",
      "/api/v1/tokens",
      "/api/v1/tokens/{name}",
      "/api/v1/whoami",
      "/healthz",
      "/metrics",
      "/readyz",
    ]);
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const codes = Object.keys(op.responses ?? {});
        expect(
          codes.some((c) => /^(2\d\d|101)$/.test(c)),
          `${method} ${path}`,
        ).toBe(true);
        expect(codes, `${method} ${path}`).toContain("500");
      }
    }
    expect(doc.components.schemas.Reading).toMatchObject({ title: "tagbridge Reading v1" });
  });
});
