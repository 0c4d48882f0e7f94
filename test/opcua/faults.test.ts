/**
 * The OPC UA adapter tells the truth through a real node-opcua server and the gateway core: a
 * missing node is a bad point with its status name while the rest of the device works; namespace
 * URIs are resolved on every connect, also after a restart that renumbers them; every restart of
 * the server is an outage that the points' latest readings (bus and REST) show, and after each one
 * they are good again without their values changing.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import type { DeviceSpec } from "../../src/core/device.js";
import { AdapterRegistry } from "../../src/core/registry.js";
import type { Reading } from "../../src/schema/reading.js";
import { type ApiFixture, apiFixture } from "../helpers/service.js";
import { type OpcuaPeer, startOpcuaPeer } from "../peers/opcua-server.js";
import { tempDir, waitFor } from "./helpers.js";

/** These tests change, restart and renumber the server: they need the in-process one. */
const external = !!process.env.OPCUA_URL;
let peer: OpcuaPeer | undefined;
let fixture: ApiFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  await peer?.stop();
  fixture = undefined;
  peer = undefined;
});

/** A gateway (with its HTTP app) of one OPC UA device `plc` with `points` (YAML flow maps). */
async function gatewayWith(endpointUrl: string, points: string[]): Promise<ApiFixture> {
  const dataDir = tempDir("opcua-faults");
  const yaml = `version: 1
gateway: gw
devices:
  - id: plc
    type: opcua
    reconnect: { minMs: 200, maxMs: 1000 }
    connection: { endpointUrl: ${endpointUrl}, acceptServerCertificate: true, publishingIntervalMs: 100 }
    points:
${points.map((p) => `      - ${p}`).join("\n")}
`;
  const parsed = parseConfig(yaml, {
    file: join(dataDir, "gateway.yaml"),
    lookup: (t) => new AdapterRegistry().get(t),
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return apiFixture(parsed.config.devices as DeviceSpec[]);
}

/** Every Reading the gateway publishes, from now on. */
function record(f: ApiFixture): Reading[] {
  const readings: Reading[] = [];
  f.gateway.bus.subscribe({ name: "test", handle: (batch) => void readings.push(...batch) });
  return readings;
}

/** The latest reading of each point as REST serves it. */
async function restLatest(f: ApiFixture): Promise<Record<string, Reading | undefined>> {
  const res = await f.app.inject({
    url: "/api/v1/devices/plc/points",
    headers: { authorization: `Bearer ${f.tokens.viewer}` },
  });
  expect(res.statusCode).toBe(200);
  const points = res.json() as { id: string; latest?: Reading }[];
  return Object.fromEntries(points.map((p) => [p.id, p.latest]));
}

const q = (r: Reading | undefined) => (r ? `${r.quality}${r.status ? `/${r.status}` : ""}` : "none");

describe.skipIf(external)("opcua: missing nodes", () => {
  it("a subscribed node that does not exist is a bad point named BadNodeIdUnknown; the device is degraded", async () => {
    peer = await startOpcuaPeer([{ name: "temp", dataType: "Double", value: 20 }]);
    fixture = await gatewayWith(peer.endpointUrl, [
      `{ id: temp, type: float64, address: "ns=1;s=temp" }`,
      `{ id: ghost, type: float64, address: "ns=1;s=ghost" }`,
      `{ id: ghostPolled, type: float64, address: "ns=1;s=ghost", mode: poll, pollIntervalMs: 200 }`,
    ]);
    const f = fixture;
    await waitFor(() => f.gateway.points("plc")?.every((p) => p.latest) || undefined, 15_000, "all points");
    const latest = await restLatest(f);
    expect(latest.temp).toMatchObject({ value: 20, quality: "good" });
    expect(latest.ghost).toMatchObject({ value: null, quality: "bad", status: "BadNodeIdUnknown" });
    expect(latest.ghostPolled).toMatchObject({ value: null, quality: "bad", status: "BadNodeIdUnknown" });
    const device = f.gateway.device("plc");
    expect(device?.state).toBe("degraded");
    expect(device?.stateReason).toMatch(/BadNodeIdUnknown/);
    peer.set("temp", 21);
    await waitFor(() => f.gateway.points("plc")?.find((p) => p.latest?.value === 21), 10_000, "temp 21");
  }, 40_000);
});

describe.skipIf(external)("opcua: namespace URIs", () => {
  it("resolves nsu= node ids on every connect, also after a restart that renumbers the namespaces", async () => {
    const A = "urn:tagbridge:test:a";
    const B = "urn:tagbridge:test:b";
    peer = await startOpcuaPeer(
      [
        { name: "va", dataType: "Double", value: 1, namespace: A },
        { name: "vb", dataType: "Double", value: 2, namespace: B },
      ],
      { namespaces: [A, B] },
    );
    fixture = await gatewayWith(peer.endpointUrl, [
      `{ id: a, type: float64, address: "nsu=${A};s=va" }`,
      `{ id: b, type: float64, address: "nsu=${B};s=vb", mode: poll, pollIntervalMs: 200 }`,
      `{ id: lost, type: float64, address: "nsu=urn:nowhere;s=va" }`,
    ]);
    const f = fixture;
    const readings = record(f);
    const all = () => {
      const p = f.gateway.points("plc") ?? [];
      return Object.fromEntries(p.map((x) => [x.id, q(x.latest)]));
    };
    const expected = { a: "good", b: "good", lost: "bad/BadNodeIdUnknown" };
    await waitFor(
      () => JSON.stringify(all()) === JSON.stringify(expected) || undefined,
      15_000,
      "first connect",
    );
    expect(f.gateway.device("plc")?.state).toBe("degraded"); // one bad point, the rest working

    await peer.restart({ namespaces: [B, A] }); // now A is ns=3 and B ns=2
    await waitFor(() => readings.find((r) => r.status === "Disconnected"), 15_000, "the outage");
    const mark = readings.length;
    await waitFor(
      () =>
        (readings.slice(mark).some((r) => r.point === "a" && r.quality === "good") &&
          readings.slice(mark).some((r) => r.point === "b" && r.quality === "good")) ||
        undefined,
      20_000,
      "a and b good after the renumbering restart",
    );
    const latest = await restLatest(f);
    expect(latest.a).toMatchObject({ value: 1, quality: "good" });
    expect(latest.b).toMatchObject({ value: 2, quality: "good" });
    expect(latest.lost).toMatchObject({ quality: "bad", status: "BadNodeIdUnknown" });
    // Nothing after the restart read the other namespace's node: a and b were only ever
    // Disconnected (the outage), WaitingForData (the core, until the first value) or good since.
    const back = readings.slice(mark).filter((r) => r.point !== "lost");
    const allowed = ["good", "bad/Disconnected", "uncertain/WaitingForData"];
    expect(back.map(q).filter((x) => !allowed.includes(x))).toEqual([]);
    peer.set("va", 11);
    await waitFor(() => readings.find((r) => r.point === "a" && r.value === 11), 10_000, "a follows changes");
  }, 60_000);
});

describe.skipIf(external)("opcua: five server restarts in a row", () => {
  it("each outage is bad/Disconnected on bus and REST; after each, the points are good again with unchanged values", async () => {
    peer = await startOpcuaPeer([
      { name: "temp", dataType: "Double", value: 20 },
      { name: "count", dataType: "UInt32", value: 7 },
    ]);
    fixture = await gatewayWith(peer.endpointUrl, [
      `{ id: temp, type: float64, address: "ns=1;s=temp" }`,
      `{ id: count, type: uint32, address: "ns=1;s=count", mode: poll, pollIntervalMs: 200 }`,
    ]);
    const f = fixture;
    const readings = record(f);
    const latestOf = (id: string) => f.gateway.points("plc")?.find((p) => p.id === id)?.latest;
    const bothGood = () => latestOf("temp")?.quality === "good" && latestOf("count")?.quality === "good";
    await waitFor(() => bothGood() || undefined, 15_000, "first values");
    const recoveryMs: number[] = [];
    for (let n = 1; n <= 5; n++) {
      await peer.halt();
      await waitFor(
        () => f.gateway.device("plc")?.state === "disconnected" || undefined,
        15_000,
        `outage ${n}`,
      );
      const down = await restLatest(f);
      expect(q(down.temp)).toBe("bad/Disconnected");
      expect(q(down.count)).toBe("bad/Disconnected");
      expect(f.gateway.device("plc")?.stateReason).toMatch(/connection lost/);
      await peer.restart(); // same values as before: nothing changes on the server
      await waitFor(() => f.gateway.device("plc")?.state === "connected" || undefined, 30_000, `back ${n}`);
      const connectedAt = Date.now();
      await waitFor(() => bothGood() || undefined, 5_000, `points good after restart ${n}`);
      recoveryMs.push(Date.now() - connectedAt);
      const up = await restLatest(f);
      expect(up.temp).toMatchObject({ value: 20, quality: "good" });
      expect(up.count).toMatchObject({ value: 7, quality: "good" });
    }
    // The timeline of the subscribed point: good, then per outage bad/Disconnected, (the core's
    // uncertain/WaitingForData between the reconnect and the first value,) and good again.
    const timeline = readings.filter((r) => r.point === "temp").map(q);
    expect(
      timeline.filter((s) => !["good", "bad/Disconnected", "uncertain/WaitingForData"].includes(s)),
    ).toEqual([]);
    const main = timeline.filter((s) => s !== "uncertain/WaitingForData");
    const collapsed = main.filter((s, i) => s !== main[i - 1]);
    expect(collapsed).toEqual([
      "good",
      ...Array.from({ length: 5 }, () => ["bad/Disconnected", "good"]).flat(),
    ]);
    expect(f.gateway.device("plc")?.counters.reconnects).toBe(5);
    // Back within about one publishing interval (100 ms) of the reconnect, with slack for 2 shared cores.
    expect(Math.max(...recoveryMs)).toBeLessThan(1500);
  }, 180_000);
});
