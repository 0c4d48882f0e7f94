/**
 * Trust is per device (issue 17, item 2): `acceptServerCertificate` on one device trusts nothing for
 * another device on the same server, also after it is gone; the shared lists change only through
 * the certificate store; trusting a rejected certificate always works, also one in both lists.
 */
import { copyFileSync, existsSync, readdirSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import opcuaAdapter, { listCertificates, pkiFolder } from "../../adapters/opcua/index.js";
import { type OpcuaPeer, startOpcuaPeer } from "../peers/opcua-server.js";
import { deviceOn, stopDevices, tempDir } from "./helpers.js";

const device = (id: string, settings: Record<string, unknown>, shared: string) =>
  deviceOn(peer.endpointUrl, id, settings, shared);

const external = !!process.env.OPCUA_URL;
let peer: OpcuaPeer;

beforeAll(async () => {
  if (!external) peer = await startOpcuaPeer([{ name: "x", dataType: "Double", value: 7 }]);
});
afterAll(async () => {
  await stopDevices();
  await peer?.stop();
});

describe.skipIf(external)("opcua: trust is per device", () => {
  it("a lax device's acceptance does not trust the certificate for a strict device on the same server, also after it is gone", async () => {
    const shared = tempDir("opcua-per-device");
    const lax = device("lax", { acceptServerCertificate: true }, shared);
    await lax.adapter.start();
    await expect(lax.adapter.read(lax.tc.ctx.points)).resolves.toMatchObject([{ value: 7, quality: "good" }]);
    // Recorded against the lax device, not in the shared lists.
    expect(await listCertificates(pkiFolder(shared))).toEqual({ trusted: [], rejected: [] });
    const accepted = readdirSync(join(lax.ctx.dataDir, "accepted"));
    expect(accepted).toHaveLength(1);

    const strict = device("strict", {}, shared);
    const refused = strict.adapter.start();
    await expect(refused).rejects.toThrow(/BadCertificateUntrusted: server certificate [0-9a-f]{40}/);
    await strict.adapter.stop();
    const lists = await listCertificates(pkiFolder(shared));
    expect(lists.trusted).toEqual([]);
    expect(lists.rejected).toHaveLength(1);
    const thumbprint = lists.rejected[0]!.thumbprint;
    expect(accepted[0]).toBe(`${thumbprint}.pem`);
    await expect(refused).rejects.toThrow(thumbprint);

    // The lax device still works while the strict one is refused, and its removal changes nothing.
    await expect(lax.adapter.read(lax.tc.ctx.points)).resolves.toMatchObject([{ value: 7 }]);
    await lax.adapter.stop();
    const again = device("strict", {}, shared);
    await expect(again.adapter.start()).rejects.toThrow(/BadCertificateUntrusted/);
    expect((await listCertificates(pkiFolder(shared))).trusted).toEqual([]);
  });

  it("trusting the rejected certificate through the store lets the strict device connect; a certificate in both lists is trusted by the admin's last action", async () => {
    const shared = tempDir("opcua-store");
    const dir = pkiFolder(shared);
    const store = opcuaAdapter.certificates!(shared);
    const first = device("strict", {}, shared);
    await expect(first.adapter.start()).rejects.toThrow(/BadCertificateUntrusted/);
    await first.adapter.stop();
    const [cert] = (await store.list()).rejected;
    expect(cert).toBeDefined();
    await store.trust(cert!.thumbprint);
    expect(await listCertificates(dir)).toMatchObject({
      trusted: [{ thumbprint: cert!.thumbprint }],
      rejected: [],
    });
    const trusted = device("strict", {}, shared);
    await trusted.adapter.start();
    await expect(trusted.adapter.read(trusted.tc.ctx.points)).resolves.toMatchObject([{ value: 7 }]);
    await trusted.adapter.stop();

    // The same certificate also in the rejected list, placed there after the trust: refused.
    const file = (await listCertificates(dir)).trusted[0]!.file;
    const rejectedCopy = join(dir, "rejected", file);
    copyFileSync(join(dir, "trusted", "certs", file), rejectedCopy);
    const later = new Date(Date.now() + 5000);
    utimesSync(rejectedCopy, later, later);
    expect((await listCertificates(dir)).rejected).toHaveLength(1);
    const both = device("strict", {}, shared);
    await expect(both.adapter.start()).rejects.toThrow(/BadCertificateUntrusted/);
    await both.adapter.stop();
    // Trust again: it works (idempotent), and leaves the certificate in the trusted list only.
    await expect(store.trust(cert!.thumbprint)).resolves.toMatchObject({ thumbprint: cert!.thumbprint });
    await expect(store.trust(cert!.thumbprint)).resolves.toMatchObject({ thumbprint: cert!.thumbprint });
    expect(await listCertificates(dir)).toMatchObject({
      trusted: [{ thumbprint: cert!.thumbprint }],
      rejected: [],
    });
    expect(existsSync(rejectedCopy)).toBe(false);
    const ok = device("strict", {}, shared);
    await ok.adapter.start();
    await expect(ok.adapter.read(ok.tc.ctx.points)).resolves.toMatchObject([{ value: 7 }]);
  });
});
