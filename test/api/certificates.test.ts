/**
 * The OPC UA trust workflow over the API: an unknown server certificate is rejected and listed,
 * an admin trusts it, and the device connects on its next retry, without a gateway restart.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { opcuaAdapter } from "../../adapters/opcua/index.js";
import { sharedDirOf } from "../../src/core/device.js";
import { Gateway } from "../../src/core/gateway.js";
import { AdapterRegistry } from "../../src/core/registry.js";
import { buildApp } from "../../src/http/app.js";
import { TokenStore } from "../../src/http/auth/tokens.js";
import { until } from "../helpers/until.js";
import { type OpcuaPeer, startOpcuaPeer } from "../peers/opcua-server.js";

let peer: OpcuaPeer;
let gateway: Gateway;
let app: FastifyInstance;
let admin: string;
let operator: string;

beforeAll(async () => {
  peer = await startOpcuaPeer([{ name: "x", dataType: "Double", value: 7 }]);
  const dataDir = mkdtempSync(join(tmpdir(), "tagbridge-certs-"));
  const log = pino({ level: "silent" });
  gateway = new Gateway({
    id: "gw",
    dataDir,
    registry: new AdapterRegistry(),
    log,
    devices: [
      {
        id: "plc",
        type: "opcua",
        reconnect: { minMs: 100, maxMs: 300 },
        connection: { endpointUrl: peer.endpointUrl },
        points: [{ id: "x", type: "float64", address: "ns=1;s=x", mode: "poll", pollIntervalMs: 100 }],
      },
    ],
  });
  const tokens = TokenStore.memory();
  admin = tokens.create("ada", "admin");
  operator = tokens.create("olga", "operator");
  const store = opcuaAdapter.certificates!(sharedDirOf(dataDir, "opcua"));
  app = await buildApp({
    gateway,
    logger: log,
    auth: { tokens },
    certificates: [{ type: "opcua", store }],
    docs: false,
  });
  gateway.start();
});
afterAll(async () => {
  await app?.close();
  await gateway?.stop();
  await peer?.stop();
});

const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe("/api/v1/opcua/certificates", () => {
  it("lists the rejected server certificate; trusting it lets the device connect", async () => {
    const rejected = await until(
      "a rejected certificate",
      async () => {
        const res = await app.inject({ url: "/api/v1/opcua/certificates", headers: as(admin) });
        const body = res.json() as { rejected: { thumbprint: string }[] };
        return body.rejected?.length ? body.rejected : undefined;
      },
      20_000,
    );
    expect(gateway.device("plc")!.state).toBe("disconnected");
    const thumbprint = rejected[0]!.thumbprint;
    expect(
      (
        await app.inject({
          method: "PUT",
          url: `/api/v1/opcua/certificates/${thumbprint}/trust`,
          headers: as(operator),
        })
      ).statusCode,
    ).toBe(403);
    const trusted = await app.inject({
      method: "PUT",
      url: `/api/v1/opcua/certificates/${thumbprint}/trust`,
      headers: as(admin),
    });
    expect(trusted.statusCode, trusted.body).toBe(200);
    await until(
      "the device connected",
      async () => (gateway.device("plc")!.state === "connected" ? true : undefined),
      20_000,
    );
    const lists = (await app.inject({ url: "/api/v1/opcua/certificates", headers: as(admin) })).json();
    expect(lists.trusted.map((c: { thumbprint: string }) => c.thumbprint)).toEqual([thumbprint]);
  });

  it("answers 404 for an unknown thumbprint and removes a trusted one", async () => {
    const missing = await app.inject({
      method: "PUT",
      url: `/api/v1/opcua/certificates/${"ab".repeat(20)}/trust`,
      headers: as(admin),
    });
    expect(missing.json().error.code).toBe("TB_ERR_CERTIFICATE_NOT_FOUND");
    const [cert] = (await app.inject({ url: "/api/v1/opcua/certificates", headers: as(admin) })).json()
      .trusted;
    expect(
      (
        await app.inject({
          method: "DELETE",
          url: `/api/v1/opcua/certificates/${cert.thumbprint}`,
          headers: as(admin),
        })
      ).statusCode,
    ).toBe(204);
    expect(
      (await app.inject({ url: "/api/v1/opcua/certificates", headers: as(admin) })).json().trusted,
    ).toEqual([]);
  });
});
