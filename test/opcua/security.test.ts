import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpcua, type OpcuaInstance } from "../../adapters/opcua/adapter.js";
import {
  type ConnectOptions,
  nodeOpcuaFactory,
  type OpcuaClientFactory,
} from "../../adapters/opcua/client.js";
import opcuaAdapter, {
  listCertificates,
  pkiFolder,
  removeCertificate,
  trustCertificate,
} from "../../adapters/opcua/index.js";
import { createTestContext } from "../../src/sdk/testing.js";
import { type OpcuaPeer, startOpcuaPeer } from "../peers/opcua-server.js";
import { tempDir } from "./helpers.js";

let peer: OpcuaPeer;
const open: OpcuaInstance[] = [];
const points = [{ id: "x", type: "float64", address: "ns=1;s=x", mode: "poll" }];
const alice = { kind: "username", username: "alice", password: "s3cret" };

beforeAll(async () => {
  peer = await startOpcuaPeer([{ name: "x", dataType: "Double", value: 7 }], {
    allowAnonymous: false,
    users: { alice: "s3cret" },
  });
});
afterAll(async () => {
  for (const a of open) await a.stop();
  await peer?.stop();
});

/** An instance whose connect options and warnings are recorded; the real node-opcua client underneath. */
function recorded(settings: Record<string, unknown>, sharedDir: string) {
  const tc = createTestContext(opcuaAdapter, {
    settings: { endpointUrl: peer.endpointUrl, ...settings },
    points,
  });
  const connects: ConnectOptions[] = [];
  const warnings: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      warnings.push(JSON.parse(String(chunk)).msg);
      done();
    },
  });
  const factory: OpcuaClientFactory = {
    endpoints: nodeOpcuaFactory.endpoints,
    connect: (o, e) => {
      connects.push(o);
      return nodeOpcuaFactory.connect(o, e);
    },
  };
  const adapter = createOpcua({ ...tc.ctx, sharedDir, log: pino({ level: "warn" }, sink) }, factory);
  open.push(adapter);
  return { adapter, tc, connects, warnings };
}

describe("security", () => {
  it("rejects an unknown server certificate and lists it; trusting it lets the device connect", async () => {
    const shared = tempDir("opcua-trust");
    const dir = pkiFolder(shared);
    const a = recorded({ identity: alice }, shared);
    await expect(a.adapter.start()).rejects.toThrow();
    await a.adapter.stop();
    const lists = await listCertificates(dir);
    expect(lists.trusted).toEqual([]);
    expect(lists.rejected).toHaveLength(1);
    const cert = lists.rejected[0]!;
    expect(cert.thumbprint).toMatch(/^[0-9a-f]{40}$/);
    await expect(trustCertificate(dir, "00".repeat(20))).rejects.toThrow(/no rejected certificate/);
    await trustCertificate(dir, cert.thumbprint.toUpperCase());
    expect(await listCertificates(dir)).toMatchObject({
      trusted: [{ thumbprint: cert.thumbprint }],
      rejected: [],
    });

    const b = recorded({ identity: alice }, shared);
    await b.adapter.start();
    const [sample] = await b.adapter.read(b.tc.ctx.points);
    expect(sample).toMatchObject({ value: 7, quality: "good" });
    await b.adapter.stop();

    expect(await removeCertificate(dir, cert.thumbprint)).toBe(true);
    expect(await removeCertificate(dir, cert.thumbprint)).toBe(false);
    const c = recorded({ identity: alice }, shared);
    await expect(c.adapter.start()).rejects.toThrow();
    expect((await listCertificates(dir)).rejected).toHaveLength(1);
  });

  it("defaults to the most secure endpoint, and creates the application certificate in the shared dir", async () => {
    const shared = tempDir("opcua-auto");
    const a = recorded({ identity: alice, acceptServerCertificate: true }, shared);
    await a.adapter.start();
    expect(a.connects[0]!.security).toEqual({ mode: "SignAndEncrypt", policy: "Aes128_Sha256_RsaOaep" });
    expect(a.warnings).toEqual([]);
    const own = await import("node:fs").then((fs) => fs.readdirSync(`${pkiFolder(shared)}/own/certs`));
    expect(own.length).toBeGreaterThan(0);
  });

  it("honours a pinned mode and policy", async () => {
    const a = recorded(
      { identity: alice, acceptServerCertificate: true, security: "sign", securityPolicy: "Basic256Sha256" },
      tempDir("opcua-sign"),
    );
    await a.adapter.start();
    expect(a.connects[0]!.security).toEqual({ mode: "Sign", policy: "Basic256Sha256" });
    await expect(a.adapter.read(a.tc.ctx.points)).resolves.toMatchObject([{ value: 7 }]);
  });

  it("uses security none only when asked, and warns at every start", async () => {
    const a = recorded({ identity: alice, security: "none" }, tempDir("opcua-none"));
    await a.adapter.start();
    expect(a.connects[0]!.security).toEqual({ mode: "None", policy: "None" });
    await a.adapter.stop();
    await a.adapter.start();
    expect(a.warnings.filter((w) => /security: none/.test(w))).toHaveLength(2);
  });

  it("refuses a wrong password and anonymous login where the server wants a user", async () => {
    const shared = tempDir("opcua-user");
    const wrong = recorded(
      { identity: { ...alice, password: "nope" }, acceptServerCertificate: true },
      shared,
    );
    await expect(wrong.adapter.start()).rejects.toThrow(
      /BadUserAccessDenied|BadIdentityTokenInvalid|BadIdentityTokenRejected/,
    );
    const anon = recorded({ acceptServerCertificate: true }, shared);
    await expect(anon.adapter.start()).rejects.toThrow(/ANONYMOUS|Bad/);
  });

  it("refuses deprecated policies and unknown modes in config", () => {
    const make = (s: Record<string, unknown>) =>
      createTestContext(opcuaAdapter, { settings: { endpointUrl: "opc.tcp://127.0.0.1:1", ...s }, points });
    expect(() => make({ securityPolicy: "Basic128Rsa15" })).toThrow(/securityPolicy/);
    expect(() => make({ security: "insecure" })).toThrow(/security/);
  });
});
