import swagger from "@fastify/swagger";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { testGateway } from "../../test/helpers/gateway-view.js";
import { historyDir, openHistoryClient, historyReading as r } from "../../test/helpers/history.js";
import type { HistoryClient } from "../history/client.js";
import { type ERROR_CODES, type ErrorResponse, registerErrorHandling } from "./errors.js";
import { historyRoutes, parseBucket } from "./routes/history.js";

const T0 = Date.parse("2026-03-01T12:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();
const BASE = "/api/v1/devices/press-1/points/temp/history";
let dir: ReturnType<typeof historyDir>;
let store: HistoryClient;
let app: FastifyInstance;
const routeConfigs = new Map<string, unknown>();

beforeEach(async () => {
  dir = historyDir();
  store = await openHistoryClient(dir.file());
  // As buildApp builds it: unknown query keys are a 400.
  app = Fastify({
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  registerErrorHandling(app);
  await app.register(swagger, { openapi: { info: { title: "t", version: "1" } } });
  app.addHook("onRoute", (route) => void routeConfigs.set(`${route.method} ${route.url}`, route.config));
  await app.register(historyRoutes, { gateway: testGateway(), history: store, prefix: "/api/v1" });
});
afterEach(async () => {
  await app.close();
  await store.close();
  dir.cleanup();
});

async function get<T>(url: string, status = 200): Promise<T> {
  const res = await app.inject(url);
  expect(res.statusCode, res.body).toBe(status);
  return res.json<T>();
}

async function expectError(url: string, status: number, code: keyof typeof ERROR_CODES, field?: string) {
  const body = await get<ErrorResponse>(url, status);
  expect(body.error.code).toBe(code);
  if (field) expect(body.error.details?.map((d) => d.field)).toContain(field);
}

const range = (from: number, to: number) => `from=${iso(from)}&to=${iso(to)}`;

describe("GET …/points/:point/history", () => {
  it("returns the raw samples of the range, oldest first", async () => {
    await store.append([
      r("press-1", "temp", T0 + 2_000, 22.5, { quality: "uncertain", status: "Clamped" }),
      r("press-1", "temp", T0, 20),
      r("press-1", "temp", T0 + 60_000, 99), // after `to`
      r("press-1", "pressure", T0, 1.5), // another point
    ]);
    const body = await get<Record<string, unknown>>(`${BASE}?${range(T0, T0 + 59_999)}`);
    expect(body).toEqual({
      device: "press-1",
      point: "temp",
      from: iso(T0),
      to: iso(T0 + 59_999),
      truncated: false,
      samples: [
        { ts: iso(T0), value: 20, quality: "good" },
        { ts: iso(T0 + 2_000), value: 22.5, quality: "uncertain", status: "Clamped" },
      ],
    });
  });

  it("defaults to the last hour up to now", async () => {
    const now = Date.now();
    await store.append([r("press-1", "temp", now - 2 * 3_600_000, 1), r("press-1", "temp", now - 60_000, 2)]);
    const body = await get<{ samples: { value: number }[]; from: string; to: string }>(BASE);
    expect(body.samples.map((s) => s.value)).toEqual([2]);
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(3_600_000);
    expect(Math.abs(Date.parse(body.to) - Date.now())).toBeLessThan(5_000);
    // Only `from`: up to now. Only `to`: the hour before it.
    const onlyTo = await get<{ from: string }>(`${BASE}?to=${iso(T0)}`);
    expect(onlyTo.from).toBe(iso(T0 - 3_600_000));
  });

  it("applies limit and says when it cut the result", async () => {
    await store.append(Array.from({ length: 5 }, (_, i) => r("press-1", "temp", T0 + i, i)));
    const body = await get<{ samples: { value: number }[]; truncated: boolean }>(
      `${BASE}?${range(T0, T0 + 10)}&limit=3`,
    );
    expect(body.samples.map((s) => s.value)).toEqual([0, 1, 2]);
    expect(body.truncated).toBe(true);
  });

  it("downsamples with `bucket`", async () => {
    await store.append([
      r("press-1", "temp", T0, 1),
      r("press-1", "temp", T0 + 59_999, 3),
      r("press-1", "temp", T0 + 60_000, 10),
      r("press-1", "temp", T0 + 60_001, 0, { quality: "bad" }),
    ]);
    const body = await get<Record<string, unknown>>(`${BASE}?${range(T0, T0 + 3_600_000)}&bucket=1m`);
    expect(body).toMatchObject({
      bucketMs: 60_000,
      truncated: false,
      buckets: [
        { ts: iso(T0), min: 1, max: 3, avg: 2, count: 2 },
        { ts: iso(T0 + 60_000), min: 10, max: 10, avg: 10, count: 1 },
      ],
    });
    expect(body.samples).toBeUndefined();
  });

  it("parses bucket durations", () => {
    expect([
      parseBucket("500ms"),
      parseBucket("30s"),
      parseBucket("1m"),
      parseBucket("2h"),
      parseBucket("1d"),
    ]).toEqual([500, 30_000, 60_000, 7_200_000, 86_400_000]);
    expect(parseBucket("0s")).toBeUndefined();
    expect(parseBucket("1w")).toBeUndefined();
    expect(parseBucket("1.5m")).toBeUndefined();
  });

  it("answers 404 for an unknown device or point", async () => {
    await expectError(
      "/api/v1/devices/nope/points/temp/history",
      404,
      "TB_ERR_DEVICE_NOT_FOUND",
      "params/device",
    );
    await expectError(
      "/api/v1/devices/press-1/points/nope/history",
      404,
      "TB_ERR_POINT_NOT_FOUND",
      "params/point",
    );
  });

  it("answers 400 for bad ranges, dates, limits, buckets and unknown keys", async () => {
    await expectError(`${BASE}?${range(T0 + 1, T0)}`, 400, "TB_ERR_BAD_REQUEST", "querystring/from");
    await expectError(`${BASE}?from=yesterday`, 400, "TB_ERR_BAD_REQUEST", "querystring/from");
    await expectError(`${BASE}?to=2026-03-01T12:00:00`, 400, "TB_ERR_BAD_REQUEST", "querystring/to"); // no zone
    await expectError(`${BASE}?limit=0`, 400, "TB_ERR_BAD_REQUEST", "querystring/limit");
    await expectError(`${BASE}?limit=10001`, 400, "TB_ERR_BAD_REQUEST", "querystring/limit");
    await expectError(`${BASE}?bucket=1x`, 400, "TB_ERR_BAD_REQUEST", "querystring/bucket");
    await expectError(`${BASE}?bucket=60000`, 400, "TB_ERR_BAD_REQUEST", "querystring/bucket");
    await expectError(`${BASE}?step=1m`, 400, "TB_ERR_BAD_REQUEST", "querystring/step");
    // Equal ends are a valid (one-instant) range.
    await get(`${BASE}?${range(T0, T0)}`);
  });

  it("answers the coded error while the store's worker is down, and serves again once it restarted", async () => {
    await store.append([r("press-1", "temp", T0, 20)]);
    await store.kill();
    const down = await get<ErrorResponse>(`${BASE}?${range(T0, T0)}`, 500);
    expect(down.error.code).toBe("TB_ERR_INTERNAL");
    expect(down.error.details).toEqual([
      { field: "history", message: expect.stringMatching(/history store is not running/) },
    ]);
    await vi.waitFor(() => expect(store.running).toBe(true), { timeout: 10_000 });
    const body = await get<{ samples: { value: number }[] }>(`${BASE}?${range(T0, T0)}`);
    expect(body.samples.map((s) => s.value)).toEqual([20]);
  });

  it("is a viewer route, and documented in OpenAPI", async () => {
    await app.ready();
    expect(routeConfigs.get("GET /api/v1/devices/:device/points/:point/history")).toMatchObject({
      role: "viewer",
    });
    const doc = app.swagger() as { paths: Record<string, { get?: { responses: Record<string, unknown> } }> };
    const op = doc.paths["/api/v1/devices/{device}/points/{point}/history"]?.get;
    expect(Object.keys(op?.responses ?? {}).sort()).toEqual(["200", "400", "404", "500"]);
  });
});
