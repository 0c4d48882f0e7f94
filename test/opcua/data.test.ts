import { resolveNodeId } from "node-opcua-nodeid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpcuaInstance } from "../../adapters/opcua/adapter.js";
import { type OpcuaPeer, type ServedVariable, startOpcuaPeer } from "../peers/opcua-server.js";
import { instance, tempDir, waitFor } from "./helpers.js";

const date = new Date("2025-06-01T12:00:00.123Z");
/** name, served data type, served value, point type, expected Reading value. */
const TYPES: [string, ServedVariable["dataType"], unknown, string, unknown, boolean?][] = [
  ["b", "Boolean", true, "bool", true],
  ["sb", "SByte", -7, "int16", -7],
  ["by", "Byte", 200, "uint16", 200],
  ["i16", "Int16", -300, "int16", -300],
  ["u16", "UInt16", 60000, "uint16", 60000],
  ["i32", "Int32", -70000, "int32", -70000],
  ["u32", "UInt32", 4000000000, "uint32", 4000000000],
  ["i64", "Int64", [0xffffffff, 0xfffffffe], "int64", -2],
  ["i64big", "Int64", [0x7fffffff, 0xffffffff], "int64", "9223372036854775807"],
  ["u64big", "UInt64", [0xffffffff, 0xffffffff], "uint64", "18446744073709551615"],
  ["f", "Float", 1.25, "float32", 1.25],
  ["d", "Double", Math.PI, "float64", Math.PI],
  ["s", "String", "grüß", "string", "grüß"],
  ["dt", "DateTime", date, "datetime", date.toISOString()],
  ["bs", "ByteString", Buffer.from("hi!"), "bytes", "aGkh"],
  ["lt", "LocalizedText", { text: "Hallo", locale: "de" }, "string", "Hallo"],
  ["g", "Guid", "72962B91-FA75-4AE6-8D28-B404DC7DAF63", "string", "72962B91-FA75-4AE6-8D28-B404DC7DAF63"],
  ["n", "NodeId", resolveNodeId("ns=1;s=Other"), "string", "ns=1;s=Other"],
  ["ai", "Int32", [1, 2, 3], "int32[]", [1, 2, 3], true],
  ["ad", "Double", [0.5, -1], "float64[]", [0.5, -1], true],
  ["as", "String", ["x", "y"], "string[]", ["x", "y"], true],
];

const variables: ServedVariable[] = [
  ...TYPES.map(([name, dataType, value, , , array]) => ({ name, dataType, value, array, folder: "Types" })),
  { name: "temp", dataType: "Double", value: 20, unit: "°C", folder: "Plant/Oven" },
  { name: "setpoint", dataType: "Double", value: 100, writable: true, folder: "Plant/Oven" },
  { name: "count", dataType: "UInt32", value: 1, writable: true, folder: "Plant" },
  { name: "big", dataType: "Int64", value: [0, 1], writable: true, folder: "Plant" },
  { name: "label", dataType: "String", value: "a", writable: true, folder: "Plant" },
  { name: "locked", dataType: "Double", value: 1, folder: "Plant" },
  { name: "unsure", dataType: "Double", value: 5, status: "UncertainLastUsableValue", folder: "Plant" },
  { name: "broken", dataType: "Double", value: 0, status: "BadSensorFailure", folder: "Plant" },
];

const typePoints = TYPES.map(([name, , , type]) => ({
  id: name,
  type,
  address: `ns=1;s=${name}`,
  mode: "poll",
}));

let peer: OpcuaPeer;
let shared: string;
let settings: Record<string, unknown>;
const open: OpcuaInstance[] = [];

beforeAll(async () => {
  peer = await startOpcuaPeer(variables);
  shared = tempDir("opcua-data");
  settings = { endpointUrl: peer.endpointUrl, acceptServerCertificate: true, publishingIntervalMs: 100 };
});
afterAll(async () => {
  for (const a of open) await a.stop();
  await peer?.stop();
});

async function started(points: unknown[], extra: Record<string, unknown> = {}) {
  const it = instance({ ...settings, ...extra }, points, shared);
  open.push(it.adapter);
  await it.adapter.start();
  return it;
}

describe("polled reads of every built-in type", () => {
  it("maps each type to its Reading value", async () => {
    const { adapter, tc } = await started(typePoints);
    const samples = await adapter.read(tc.ctx.points);
    const got = Object.fromEntries(samples.map((s) => [s.point, [s.quality, s.value]]));
    const want = Object.fromEntries(TYPES.map(([name, , , , value]) => [name, ["good", value]]));
    expect(got).toEqual(want);
    expect(samples.every((s) => s.sourceTs instanceof Date)).toBe(true);
  });

  it("maps statuses to quality, and an unknown node to bad", async () => {
    const pts = ["temp", "unsure", "broken", "nope"].map((n) => ({
      id: n,
      type: "float64",
      address: `ns=1;s=${n}`,
      mode: "poll",
    }));
    const { adapter, tc } = await started(pts);
    const samples = await adapter.read(tc.ctx.points);
    expect(samples.map((s) => [s.point, s.quality, s.status, s.value])).toEqual([
      ["temp", "good", undefined, 20],
      ["unsure", "uncertain", "UncertainLastUsableValue", 5],
      ["broken", "bad", "BadSensorFailure", null],
      ["nope", "bad", "BadNodeIdUnknown", null],
    ]);
    expect(samples[0]!.unit).toBe("°C");
  });
});

describe("subscriptions", () => {
  it("delivers the initial value and every change, with source timestamps and unit", async () => {
    const pts = [
      { id: "temp", type: "float64", address: "ns=1;s=temp", samplingIntervalMs: 50 },
      {
        id: "count",
        type: "uint32",
        address: "ns=1;s=count",
        samplingIntervalMs: 50,
        queueSize: 10,
        discardOldest: true,
      },
    ];
    const { tc } = await started(pts, { maxItemsPerSubscription: 1 });
    await waitFor(
      () => tc.emitted.some((s) => s.point === "count") && tc.emitted.some((s) => s.point === "temp"),
      8000,
      "initial values",
    );
    const ts = new Date();
    peer.set("temp", 21.5);
    for (let n = 2; n <= 4; n++) {
      peer.set("count", n);
      // Each value must be sampled before the next replaces it on the server.
      await waitFor(() => tc.emitted.some((s) => s.point === "count" && s.value === n), 8000, `count ${n}`);
    }
    const changed = await waitFor(
      () => tc.emitted.find((s) => s.point === "temp" && s.value === 21.5),
      8000,
      "temp change",
    );
    expect(changed).toMatchObject({ quality: "good", unit: "°C" });
    expect((changed.sourceTs as Date).getTime()).toBeGreaterThanOrEqual(ts.getTime() - 5);
    await waitFor(() => tc.emitted.some((s) => s.point === "count" && s.value === 4), 8000, "count 4");
    const counts = tc.emitted.filter((s) => s.point === "count").map((s) => s.value);
    expect(counts).toEqual([1, 2, 3, 4]);
    peer.set("temp", 0, "BadSensorFailure");
    await waitFor(
      () => tc.emitted.find((s) => s.point === "temp" && s.status === "BadSensorFailure"),
      8000,
      "bad temp",
    );
  });

  it("applies a server-side absolute deadband", async () => {
    peer.set("setpoint", 100);
    const pts = [
      {
        id: "sp",
        type: "float64",
        address: "ns=1;s=setpoint",
        serverDeadband: { mode: "absolute", value: 5 },
      },
    ];
    const { tc } = await started(pts);
    await waitFor(() => tc.emitted.find((s) => s.value === 100), 8000, "initial");
    peer.set("setpoint", 102);
    peer.set("setpoint", 110);
    await waitFor(() => tc.emitted.find((s) => s.value === 110), 8000, "110");
    expect(tc.emitted.map((s) => s.value)).toEqual([100, 110]);
  });

  it("plans subscriptions within the item limit", () => {
    const pts = Array.from({ length: 5 }, (_, i) => ({
      id: `p${i}`,
      type: "float64",
      address: `ns=1;s=p${i}`,
    }));
    const { adapter } = instance(
      { ...settings, maxItemsPerSubscription: 2 },
      [...pts, { ...pts[0]!, id: "q", mode: "poll" }],
      shared,
    );
    expect(adapter.plan()).toMatchObject({
      subscriptions: [{ items: 2 }, { items: 2 }, { items: 1 }],
      polled: ["q"],
    });
  });
});

describe("writes", () => {
  const pts = [
    { id: "setpoint", type: "float64", address: "ns=1;s=setpoint", access: "readwrite", mode: "poll" },
    { id: "count", type: "uint32", address: "ns=1;s=count", access: "readwrite", mode: "poll" },
    { id: "big", type: "int64", address: "ns=1;s=big", access: "readwrite", mode: "poll" },
    { id: "label", type: "string", address: "ns=1;s=label", access: "readwrite", mode: "poll" },
    { id: "locked", type: "float64", address: "ns=1;s=locked", access: "readwrite", mode: "poll" },
    { id: "temp", type: "float64", address: "ns=1;s=temp", mode: "poll" },
  ];

  it("coerces to the node's type and returns the OPC UA status", async () => {
    const { adapter, tc } = await started(pts);
    const p = (id: string) => tc.ctx.points.find((x) => x.id === id)!;
    await expect(adapter.write(p("setpoint"), "42.5")).resolves.toEqual({ status: "Good" });
    await expect(adapter.write(p("count"), 7)).resolves.toEqual({ status: "Good" });
    await expect(adapter.write(p("big"), "9007199254740993")).resolves.toEqual({ status: "Good" });
    await expect(adapter.write(p("label"), 12)).resolves.toEqual({ status: "Good" });
    expect([peer.get("setpoint"), peer.get("count"), peer.get("label")]).toEqual([42.5, 7, "12"]);
    const back = await adapter.read([p("big")]);
    expect(back[0]!.value).toBe("9007199254740993");
  });

  it("refuses bad values, read-only points, and reports the server's refusal", async () => {
    const { adapter, tc } = await started(pts);
    const p = (id: string) => tc.ctx.points.find((x) => x.id === id)!;
    await expect(adapter.write(p("count"), -1)).rejects.toThrow(/UInt32 node/);
    await expect(adapter.write(p("temp"), 1)).rejects.toThrow(/read-only/);
    await expect(adapter.write(p("locked"), 2)).rejects.toThrow(/refused by the server: BadNotWritable/);
  });
});

describe("browse", () => {
  it("lists children with kind, type, access and whether they have children", async () => {
    const { adapter } = await started([]);
    const root = await adapter.browse();
    expect(root.find((n) => n.name === "Plant")).toMatchObject({
      id: "ns=1;s=Plant",
      kind: "Object",
      hasChildren: true,
    });
    const plant = await adapter.browse("ns=1;s=Plant");
    expect(plant.find((n) => n.name === "count")).toEqual({
      id: "ns=1;s=count",
      name: "count",
      browseName: "1:count",
      dataType: "UInt32",
      kind: "Variable",
      type: "uint32",
      access: "readwrite",
      hasChildren: false,
    });
    const oven = await adapter.browse("ns=1;s=Plant/Oven");
    expect(oven.find((n) => n.name === "temp")).toMatchObject({
      type: "float64",
      access: "read",
      hasChildren: true,
    });
    const types = await adapter.browse("ns=1;s=Types");
    expect(types.find((n) => n.name === "ai")).toMatchObject({ type: "int32[]" });
    await expect(adapter.browse("ns=1;s=Missing")).rejects.toThrow(/BadNodeIdUnknown/);
  });
});
