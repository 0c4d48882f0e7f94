/**
 * X.509 user identity against node-opcua's server: a user certificate the server's user PKI trusts
 * logs in and reads; one it does not trust is refused. The certificates are made by openssl.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpcuaInstance } from "../../adapters/opcua/adapter.js";
import { type OpcuaPeer, startOpcuaPeer } from "../peers/opcua-server.js";
import { instance, tempDir } from "./helpers.js";

const points = [{ id: "x", type: "float64", address: "ns=1;s=x", mode: "poll" }];
let peer: OpcuaPeer;
let certs: string;
const open: OpcuaInstance[] = [];
const dirs: string[] = [];

/** A self-signed user certificate and its key, made by openssl in `dir`. */
function userCertificate(dir: string, name: string): { certificateFile: string; privateKeyFile: string } {
  const certificateFile = join(dir, `${name}.pem`);
  const privateKeyFile = join(dir, `${name}.key`);
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "keyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-keyout",
      privateKeyFile,
      "-out",
      certificateFile,
    ],
    { stdio: "ignore" },
  );
  return { certificateFile, privateKeyFile };
}

let trusted: ReturnType<typeof userCertificate>;
let stranger: ReturnType<typeof userCertificate>;

beforeAll(async () => {
  certs = tempDir("opcua-x509");
  dirs.push(certs);
  trusted = userCertificate(certs, "operator");
  stranger = userCertificate(certs, "stranger");
  peer = await startOpcuaPeer([{ name: "x", dataType: "Double", value: 42 }], {
    allowAnonymous: false,
    users: { alice: "s3cret" },
    trustedUserCertificates: [trusted.certificateFile],
  });
});
afterAll(async () => {
  for (const a of open) await a.stop();
  await peer?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function device(identity: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const shared = tempDir("opcua-x509-client");
  dirs.push(shared);
  const { adapter, tc } = instance(
    { endpointUrl: peer.endpointUrl, acceptServerCertificate: true, identity, ...extra },
    points,
    shared,
  );
  open.push(adapter);
  return { adapter, tc };
}

describe.skipIf(process.env.OPCUA_URL)("X.509 user identity (node-opcua server)", () => {
  it("a trusted user certificate logs in over the default (SignAndEncrypt) endpoint and reads", async () => {
    const { adapter, tc } = device({ kind: "certificate", ...trusted });
    await adapter.start();
    const [sample] = await adapter.read(tc.ctx.points);
    expect(sample).toMatchObject({ value: 42, quality: "good" });
    await adapter.stop();
  });

  it("a trusted user certificate logs in over security none (token signed with the user key)", async () => {
    const { adapter, tc } = device({ kind: "certificate", ...trusted }, { security: "none" });
    await adapter.start();
    await expect(adapter.read(tc.ctx.points)).resolves.toMatchObject([{ value: 42, quality: "good" }]);
    await adapter.stop();
  });

  it("an untrusted user certificate is refused, and the server files it as rejected", async () => {
    const { adapter } = device({ kind: "certificate", ...stranger });
    await expect(adapter.start()).rejects.toThrow(/BadIdentityTokenRejected/);
    await adapter.stop();
    const rejected = readdirSync(join(peer.pkiDir!, "user", "rejected"));
    expect(rejected.length).toBeGreaterThan(0);
  });

  it("a key that does not belong to the certificate is refused (proof of possession fails)", async () => {
    const { adapter } = device({
      kind: "certificate",
      certificateFile: trusted.certificateFile,
      privateKeyFile: stranger.privateKeyFile,
    });
    await expect(adapter.start()).rejects.toThrow(/BadUserSignatureInvalid/);
    await adapter.stop();
  });
});
