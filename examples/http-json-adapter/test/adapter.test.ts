/**
 * The http-json adapter against a real HTTP server on loopback: the tagbridge conformance kit,
 * then how HTTP outcomes map to samples.
 */
import { adapterConformance, createTestContext } from "tagbridge/sdk/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import httpJsonAdapter from "../src/index.js";
import { type HttpPeer, startHttpPeer } from "./http-peer.js";

const DEVICE = {
  temperature: { value: 21.5, unit: "°C" },
  running: true,
  sensors: [
    { id: "t1", value: 10 },
    { id: "t2", value: 20 },
  ],
  "label with spaces": "line 3",
  model: "PX-7",
};

let peer: HttpPeer;
beforeAll(async () => {
  peer = await startHttpPeer({
    "/device.json": { json: DEVICE },
    "/pump/2": { json: { flow: 3.25 } },
    "/broken": { status: 503, body: "maintenance" },
    "/forbidden": { status: 403, body: "no" },
    "/html": { status: 200, body: "<html></html>" },
    "/slow": { hang: true },
  });
});
afterAll(() => peer.close());

const settings = () => ({ url: `${peer.url}/device.json`, timeoutMs: 300 });

/** Starts an instance on `points`, runs `fn`, stops it. */
async function withAdapter(
  points: unknown[],
  fn: (read: () => Promise<unknown[]>) => Promise<void>,
  connection: unknown = settings(),
) {
  const tc = createTestContext(httpJsonAdapter, { settings: connection, points });
  const adapter = httpJsonAdapter.create(tc.ctx);
  await adapter.start();
  try {
    await fn(() => adapter.read!(tc.ctx.points));
  } finally {
    await adapter.stop();
  }
}

describe("http-json: conformance (real HTTP server)", () => {
  // The fixture is built lazily: the server's port is known only once beforeAll ran.
  const checks = adapterConformance(httpJsonAdapter, {
    get settings() {
      return settings();
    },
    points: [
      { id: "temperature", type: "float64", unit: "°C", path: "$.temperature.value" },
      { id: "running", type: "bool", path: "$.running" },
      { id: "flow", type: "float32", url: "/pump/2", path: "$.flow" },
    ],
    faultyPoints: [
      { id: "gone", type: "float64", path: "$.nope" },
      { id: "broken", type: "float64", url: "/broken" },
      { id: "slow", type: "float64", url: "/slow" },
    ],
    settleMs: 50,
  });
  for (const check of checks) it(check.name, check.run);
});

describe("http-json: reads", () => {
  it("picks values with the MQTT adapter's JSONPath language", async () => {
    const points = [
      { id: "a", type: "float64", path: "$.temperature.value" },
      { id: "b", type: "int32", path: "$.sensors[?(@.id=='t2')].value" },
      { id: "c", type: "int32[]", path: "$.sensors[*].value" },
      { id: "d", type: "string", path: "$['label with spaces']" },
      { id: "e", type: "json" },
    ];
    await withAdapter(points, async (read) => {
      expect(await read()).toEqual([
        { point: "a", value: 21.5 },
        { point: "b", value: 20 },
        { point: "c", value: [10, 20] },
        { point: "d", value: "line 3" },
        { point: "e", value: DEVICE },
      ]);
    });
  });

  it("maps HTTP outcomes to quality: status, timeout, not JSON, missing path", async () => {
    const points = [
      { id: "unavailable", type: "float64", url: "/broken" },
      { id: "forbidden", type: "float64", url: `${peer.url}/forbidden` },
      { id: "absent", type: "float64", url: "/nothing-here" },
      { id: "slow", type: "float64", url: "/slow" },
      { id: "html", type: "float64", url: "/html" },
      { id: "missing", type: "float64", path: "$.temperature.nope" },
      { id: "fine", type: "float64", path: "$.temperature.value" },
    ];
    await withAdapter(points, async (read) => {
      const bad = (point: string, status: string) => ({ point, value: null, quality: "bad", status });
      expect(await read()).toEqual([
        bad("unavailable", "HTTP 503"),
        bad("forbidden", "HTTP 403"),
        bad("absent", "HTTP 404"),
        bad("slow", "Timeout"),
        bad("html", "NotJson"),
        bad("missing", "PathNotFound"),
        { point: "fine", value: 21.5 },
      ]);
    });
  });

  it("passes a value of the wrong type on as it is (the core marks it TypeMismatch)", async () => {
    await withAdapter([{ id: "model", type: "float64", path: "$.model" }], async (read) => {
      expect(await read()).toEqual([{ point: "model", value: "PX-7" }]);
    });
  });

  it("makes one request per URL per read, however many points share it", async () => {
    const points = ["a", "b", "c"].map((id) => ({ id, type: "json", url: "/pump/2" }));
    await withAdapter(points, async (read) => {
      const before = peer.hits.get("/pump/2") ?? 0;
      await read();
      expect(peer.hits.get("/pump/2")).toBe(before + 1);
    });
  });
});

describe("http-json: an unreachable device", () => {
  it("fails start() when nothing listens, and read() once the server went away", async () => {
    const gone = await startHttpPeer({ "/d": { json: { v: 1 } } });
    const connection = { url: `${gone.url}/d`, timeoutMs: 300 };
    await withAdapter(
      [{ id: "v", type: "int16", path: "$.v" }],
      async (read) => {
        expect(await read()).toEqual([{ point: "v", value: 1 }]);
        await gone.close();
        await expect(read()).rejects.toThrow(/ECONNREFUSED/);
      },
      connection,
    );
    const tc = createTestContext(httpJsonAdapter, { settings: connection, points: [] });
    await expect(httpJsonAdapter.create(tc.ctx).start()).rejects.toThrow(/ECONNREFUSED/);
  });

  it("fails start() when the device does not answer in time", async () => {
    const tc = createTestContext(httpJsonAdapter, {
      settings: { url: `${peer.url}/slow`, timeoutMs: 100 },
      points: [],
    });
    const adapter = httpJsonAdapter.create(tc.ctx);
    await expect(adapter.start()).rejects.toThrow(/no complete response within 100 ms/);
    await adapter.stop();
  });
});
