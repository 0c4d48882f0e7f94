/**
 * Canary secrets (an MQTT password, an OPC UA password, an API token) placed in a real service's
 * config and token store never show up in its logs (at trace level), API responses or metrics.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { type Service, startService } from "../../src/service.js";
import { until } from "../helpers/until.js";

const MQTT_CANARY = "mqtt-canary-6b1d2e";
const OPCUA_CANARY = "opcua-canary-9c4f7a";
const dir = mkdtempSync(join(tmpdir(), "tagbridge-canary-"));
const file = join(dir, "gateway.yaml");
let logs = "";
let service: Service;
let token: string;

beforeAll(async () => {
  process.env.TB_CANARY_MQTT = MQTT_CANARY;
  writeFileSync(join(dir, "opcua-password"), `${OPCUA_CANARY}\n`);
  writeFileSync(
    file,
    `version: 1
gateway: canary-gw
dataDir: ${dir}/data
http: { port: 0 }
devices:
  - id: broker
    type: mqtt
    reconnect: { minMs: 100, maxMs: 200 }
    connection: { url: "mqtt://127.0.0.1:9", username: line1, password: "\${env:TB_CANARY_MQTT}", connectTimeoutMs: 500 }
    points: [{ id: x, type: float64, topic: a/b }]
  - id: plc
    type: opcua
    reconnect: { minMs: 100, maxMs: 200 }
    connection:
      endpointUrl: opc.tcp://127.0.0.1:9
      identity: { kind: username, username: op, password: "\${file:opcua-password}" }
    points: [{ id: y, type: float64, address: "ns=1;s=y" }]
  - id: sim
    type: simulator
    pollIntervalMs: 50
    connection: {}
    points: [{ id: z, type: float64, access: readwrite, generator: { kind: constant, value: 1 } }]
`,
  );
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs += chunk.toString();
      done();
    },
  });
  service = await startService(file, {}, createLogger("trace", false, sink));
  token = readFileSync(join(dir, "data", "admin-token"), "utf8").trim();
  // The failing devices must have retried (and logged each attempt) before the logs are checked.
  const attempts = (device: string) =>
    logs.split("\n").filter((l) => l.includes(`"device":"${device}"`)).length;
  await until(
    "both failing devices retried and logged",
    () => attempts("broker") >= 3 && attempts("plc") >= 3,
    15_000,
  );
});
afterAll(async () => {
  await service?.close();
  delete process.env.TB_CANARY_MQTT;
});

describe("secrets stay secret", () => {
  it("never in API responses or metrics", async () => {
    const auth = { authorization: `Bearer ${token}` };
    const urls = service.app.routeTable
      .filter((r) => r.method === "GET" && !r.url.includes("*") && !/\/(stream|events)$/.test(r.url))
      .map((r) => r.url.replace(":device", "broker").replace(":point", "x").replace(":name", "admin"));
    expect(urls.length).toBeGreaterThan(10);
    let bodies = "";
    for (const url of urls) bodies += (await service.app.inject({ url, headers: auth })).body;
    bodies += (
      await service.app.inject({
        method: "PUT",
        url: "/api/v1/devices/sim/points/z/value",
        headers: auth,
        payload: { value: 2 },
      })
    ).body;
    expect(bodies).toContain("broker"); // the responses were real
    for (const secret of [MQTT_CANARY, OPCUA_CANARY, token]) expect(bodies).not.toContain(secret);
  });

  it("never in the logs, even at trace level", () => {
    expect(logs.length).toBeGreaterThan(1000);
    expect(logs).toMatch(/broker/);
    for (const secret of [MQTT_CANARY, OPCUA_CANARY, token]) expect(logs).not.toContain(secret);
  });
});
