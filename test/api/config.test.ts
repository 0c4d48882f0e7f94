/**
 * Device and point management through the API against a real service: every change validated like
 * the file, written back to it (comments kept), applied at once; secrets masked on export.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Service, startService } from "../../src/service.js";
import { apiCaller } from "../helpers/http.js";

const CANARY = "canary-7f3a9c-never-shown";
const dir = mkdtempSync(join(tmpdir(), "tagbridge-config-api-"));
const file = join(dir, "gateway.yaml");
const ORIGINAL = `# Line 1 gateway: keep this comment
version: 1
gateway: cfg-gw
dataDir: ${dir}/data
http: { port: 0 }
devices:
  # the press stays untouched by the edits below
  - id: press
    type: simulator
    description: "Press \${env:TB_TEST_CANARY}"
    pollIntervalMs: 50
    connection: {}
    points:
      - { id: t, type: float64, generator: { kind: sine } } # inline comment
      - { id: u, type: float64, description: "\${env:TB_TEST_CANARY}", generator: { kind: sine } }
  - id: broker
    type: mqtt
    enabled: false
    connection: { url: "mqtt://127.0.0.1:1", username: line1, password: "\${env:TB_TEST_CANARY}" }
    points:
      - { id: x, type: float64, topic: a/b }
`;

let service: Service;
let headers: Record<string, string>;
let api: string;

beforeAll(async () => {
  process.env.TB_TEST_CANARY = CANARY;
  writeFileSync(file, ORIGINAL);
  service = await startService(file, { logLevel: "silent" });
  const token = readFileSync(join(dir, "data", "admin-token"), "utf8").trim();
  headers = { authorization: `Bearer ${token}` };
  api = `${service.url}/api/v1`;
});
afterAll(async () => {
  await service?.close();
  delete process.env.TB_TEST_CANARY;
});

const call = apiCaller(
  () => api,
  () => headers,
  (text) => expect(text).not.toContain(CANARY),
);

const oven = {
  id: "oven",
  type: "simulator",
  pollIntervalMs: 50,
  connection: {},
  points: [{ id: "zone", type: "float64", generator: { kind: "ramp" } }],
};

describe("device and point management", () => {
  // Issue 17: a field that came from a placeholder is never echoed (call() also asserts that no
  // answer contains the canary).
  it("shows device and point fields that came from placeholders masked", async () => {
    expect((await call("GET", "/devices/press")).body.description).toBe("***");
    expect(
      (await call("GET", "/devices")).body.find((d: { id: string }) => d.id === "press").description,
    ).toBe("***");
    const points = (await call("GET", "/devices/press/points")).body as {
      id: string;
      description?: string;
    }[];
    expect(points.find((p) => p.id === "u")!.description).toBe("***");
    expect(service.gateway.device("press")!.description).toBe(`Press ${CANARY}`); // the runtime has it
  });

  it("lists adapter types with their JSON Schemas", async () => {
    const { status, body } = await call("GET", "/adapters");
    expect(status).toBe(200);
    expect(body.map((a: { type: string }) => a.type).sort()).toEqual([
      "modbus",
      "mqtt",
      "opcua",
      "simulator",
    ]);
    expect(body.find((a: { type: string }) => a.type === "modbus").connectionSchema.type).toBe("object");
  });

  it("adds a device: validated, persisted with the file's comments kept, running at once", async () => {
    const pressSince = service.gateway.device("press")!.stateSince;
    const { status, body } = await call("POST", "/devices", oven);
    expect(status).toBe(201);
    expect(body.id).toBe("oven");
    const text = readFileSync(file, "utf8");
    expect(text).toContain("# Line 1 gateway: keep this comment");
    expect(text).toContain("# the press stays untouched by the edits below");
    expect(text).toContain("# inline comment");
    expect(text).toMatch(/id: oven/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a config placeholder, not a JS template
    expect(text).toContain("${env:TB_TEST_CANARY}"); // the placeholder stays, the secret is never written
    expect(service.gateway.device("press")!.stateSince).toBe(pressSince);
    expect((await call("POST", "/devices", oven)).body.error.code).toBe("TB_ERR_ALREADY_EXISTS");
  });

  it("refuses an invalid device with every error and its path, leaving the file as it was", async () => {
    const before = readFileSync(file, "utf8");
    const bad = { ...oven, id: "bad", points: [{ id: "p", type: "float65", generator: { kind: "sinus" } }] };
    const { status, body } = await call("POST", "/devices", bad);
    expect(status).toBe(422);
    expect(body.error.code).toBe("TB_ERR_CONFIG_INVALID");
    const fields = body.error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(
      expect.arrayContaining(["devices[3].points[0].type", "devices[3].points[0].generator.kind"]),
    );
    expect(readFileSync(file, "utf8")).toBe(before);
    expect(service.gateway.device("bad")).toBeUndefined();
  });

  it("adds, replaces and removes points, then replaces and removes the device", async () => {
    expect(
      (
        await call("POST", "/devices/oven/points", {
          id: "door",
          type: "bool",
          generator: { kind: "square" },
        })
      ).status,
    ).toBe(201);
    expect(service.gateway.points("oven")!.map((p) => p.id)).toEqual(["zone", "door"]);
    const replaced = await call("PUT", "/devices/oven/points/zone", {
      id: "zone",
      type: "float64",
      unit: "°C",
      generator: { kind: "ramp" },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.unit).toBe("°C");
    expect((await call("DELETE", "/devices/oven/points/door")).status).toBe(204);
    expect((await call("DELETE", "/devices/oven/points/door")).body.error.code).toBe(
      "TB_ERR_POINT_NOT_FOUND",
    );
    expect((await call("PUT", "/devices/oven", { ...oven, pollIntervalMs: 500 })).status).toBe(200);
    expect(readFileSync(file, "utf8")).toMatch(/pollIntervalMs: 500/);
    expect((await call("DELETE", "/devices/oven")).status).toBe(204);
    expect(service.gateway.device("oven")).toBeUndefined();
    expect(readFileSync(file, "utf8")).not.toMatch(/id: oven/);
    expect((await call("DELETE", "/devices/oven")).body.error.code).toBe("TB_ERR_DEVICE_NOT_FOUND");
  });

  it("exports the config with secrets masked", async () => {
    const { status, body } = await call("GET", "/config");
    expect(status).toBe(200);
    expect(body.devices[1].connection).toMatchObject({ username: "line1", password: "***" });
  });

  it("reload refuses a broken file with its errors and keeps running", async () => {
    const good = readFileSync(file, "utf8");
    writeFileSync(file, good.replace("pollIntervalMs: 50", "pollIntervalMs: 5"));
    const { status, body } = await call("POST", "/config/reload");
    expect(status).toBe(422);
    expect(body.error.details[0].field).toBe("devices[0].pollIntervalMs");
    writeFileSync(file, good);
    expect((await call("POST", "/config/reload")).status).toBe(200);
  });
});
