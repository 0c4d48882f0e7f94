/**
 * Exposure: plain HTTP only on loopback unless the config says otherwise, HTTPS with the configured
 * certificate, and a cap on stream clients.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { type ClientRequest, get } from "node:http";
import { request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isLoopback } from "../../src/http/serve.js";
import { type Service, startService } from "../../src/service.js";
import { apiFixture } from "../helpers/service.js";

const dir = mkdtempSync(join(tmpdir(), "tagbridge-exposure-"));
const config = (http: string) => `version: 1
gateway: exp-gw
dataDir: ${dir}/data
http: ${http}
devices: []
`;
const services: Service[] = [];
afterAll(async () => {
  for (const s of services) await s.close();
});

describe("exposure", () => {
  it("knows loopback addresses", () => {
    expect(["127.0.0.1", "127.1.2.3", "::1", "localhost"].map(isLoopback)).toEqual([true, true, true, true]);
    expect(["0.0.0.0", "::", "192.168.1.10", "10.0.0.1"].map(isLoopback)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it("refuses plain HTTP on a non-loopback address unless told, and starts nothing", async () => {
    const file = join(dir, "open.yaml");
    writeFileSync(file, config("{ host: 0.0.0.0, port: 0 }"));
    await expect(startService(file, { logLevel: "silent" })).rejects.toThrow(
      /refusing plain HTTP on 0\.0\.0\.0: set http\.tls/,
    );
  });

  it("serves HTTPS with the configured certificate and key", async () => {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        key,
        "-out",
        cert,
      ],
      { stdio: "ignore" },
    );
    const file = join(dir, "tls.yaml");
    writeFileSync(file, config("{ port: 0, tls: { certFile: cert.pem, keyFile: key.pem } }"));
    const service = await startService(file, { logLevel: "silent" });
    services.push(service);
    expect(service.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${service.url}/healthz`, { ca: readFileSync(cert) }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject).end();
    });
    expect(status).toBe(200);
    // verification stays on: a client that does not trust the certificate is refused
    await expect(
      new Promise((resolve, reject) => request(`${service.url}/healthz`, resolve).on("error", reject).end()),
    ).rejects.toThrow(/self.signed|unable to verify/i);
  });

  it("caps stream clients (WebSocket and SSE together) and frees a slot when one leaves", async () => {
    const f = await apiFixture(undefined, { limits: { maxStreamClients: 1 } });
    await f.app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = f.app.server.address() as AddressInfo;
    const open = () =>
      new Promise<{ status: number; req: ClientRequest; body: Promise<string> }>((resolve, reject) => {
        const req = get(`http://127.0.0.1:${port}/api/v1/events?access_token=${f.tokens.viewer}`, (res) => {
          let text = "";
          res.on("data", (d: Buffer) => {
            text += d.toString();
          });
          resolve({
            status: res.statusCode ?? 0,
            req,
            body: new Promise((r) => res.on("end", () => r(text))),
          });
        });
        req.on("error", reject);
      });
    const first = await open();
    expect(first.status).toBe(200);
    const second = await open();
    expect(second.status).toBe(503);
    expect(JSON.parse(await second.body).error.code).toBe("TB_ERR_TOO_MANY_STREAMS");
    first.req.destroy(); // the client goes: its slot is freed
    let third = await open();
    for (let i = 0; i < 50 && third.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      third = await open();
    }
    expect(third.status).toBe(200);
    third.req.destroy();
    await f.close();
  });
});
