/** Unit tests of the adapter over a fake client seam: ordering, in-flight limits, refusals, plan. */
import { describe, expect, it } from "vitest";
import { modbus } from "../../test/modbus/helpers.js";
import { type ModbusClient, ModbusError } from "./client.js";

/** A fake client: registers hold their address; records concurrency and calls. */
function fakeClient(options: { fail?: (unit: number) => ModbusError | undefined } = {}) {
  const calls: string[] = [];
  let active = 0;
  let peak = 0;
  const client: ModbusClient & { calls: string[]; peak: () => number } = {
    calls,
    peak: () => peak,
    isOpen: true,
    async connect() {},
    async close() {},
    resync() {},
    async readRegisters(unit, table, address, count) {
      calls.push(`${unit}/${table}:${address}+${count}`);
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setImmediate(r)); // in flight across a turn of the event loop, as on a wire
      active--;
      const err = options.fail?.(unit);
      if (err) throw err;
      const out = new Uint8Array(count * 2);
      for (let i = 0; i < count; i++) out[2 * i + 1] = address + i;
      return out;
    },
    async readBits(_u, _t, _a, count) {
      return new Array(count).fill(true);
    },
    async writeCoils(unit, address, values) {
      calls.push(`write ${unit}/co:${address}=${values.join(",")}`);
    },
    async writeRegisters(unit, address, words) {
      calls.push(`write ${unit}/hr:${address}=${words.join(",")}`);
    },
    async maskWriteRegister(unit, address, andMask, orMask) {
      calls.push(`mask ${unit}/hr:${address} and=${andMask.toString(16)} or=${orMask.toString(16)}`);
    },
  };
  return client;
}

const spread = Array.from({ length: 6 }, (_, i) => ({
  id: `p${i}`,
  type: "uint16",
  address: `hr:${i * 100}`,
}));

describe("modbus adapter (fake client)", () => {
  it("keeps at most maxInFlight requests outstanding on TCP", async () => {
    const client = fakeClient();
    const s = modbus({ host: "h", maxInFlight: 3, maxGapRegisters: 0 }, spread, { client });
    await s.adapter.start();
    const got = await s.readAll();
    expect(Object.values(got).map((x) => x.value)).toEqual([
      0,
      100 % 256,
      200,
      300 % 256,
      400 % 256,
      500 % 256,
    ]);
    expect(client.peak()).toBe(3);
  });

  it("sends one request at a time on a serial line, whatever maxInFlight says", async () => {
    const client = fakeClient();
    const s = modbus({ transport: "rtu", serialPort: "/dev/null", maxInFlight: 8 }, spread, { client });
    await s.adapter.start();
    await s.readAll();
    expect(client.peak()).toBe(1);
  });

  it("a lost connection during a read throws (connection-wide), an exception does not", async () => {
    const client = fakeClient({ fail: (u) => (u === 2 ? new ModbusError("exception", "x", 4) : undefined) });
    const s = modbus(
      { host: "h" },
      [...spread.slice(0, 1), { id: "u2", type: "int16", address: "hr:0", unitId: 2 }],
      { client },
    );
    await s.adapter.start();
    expect((await s.readAll()).u2).toMatchObject({ quality: "bad", status: "ServerDeviceFailure" });
    const lost = fakeClient({ fail: () => new ModbusError("connection", "socket closed") });
    const t = modbus({ host: "h" }, spread, { client: lost });
    await t.adapter.start();
    await expect(t.readAll()).rejects.toThrow(/socket closed/);
  });

  it("encodes writes with the point's type and order, and refuses what cannot be written", async () => {
    const client = fakeClient();
    const s = modbus(
      { host: "h" },
      [
        { id: "f", type: "float32", address: "hr:4", byteOrder: "CDAB", access: "readwrite" },
        { id: "ro", type: "int16", address: "hr:9" },
        { id: "in", type: "int16", address: "ir:0", access: "readwrite" },
        { id: "bit", type: "bool", address: "hr:1", bit: 2, access: "readwrite" },
        { id: "c", type: "bool", address: "co:3", access: "readwrite" },
      ],
      { client },
    );
    await s.adapter.start();
    await s.adapter.write(s.point("f"), 123.456);
    await s.adapter.write(s.point("c"), false);
    await s.adapter.write(s.point("bit"), true);
    await s.adapter.write(s.point("bit"), 0);
    expect(client.calls).toEqual([
      `write 1/hr:4=${0xe979},${0x42f6}`,
      "write 1/co:3=false",
      "mask 1/hr:1 and=fffb or=4",
      "mask 1/hr:1 and=fffb or=0",
    ]);
    await expect(s.adapter.write(s.point("ro"), 1)).rejects.toThrow(/read-only/);
    await expect(s.adapter.write(s.point("in"), 1)).rejects.toThrow(/input table, which cannot be written/);
    await expect(s.adapter.write(s.point("bit"), "on")).rejects.toThrow(
      /point bit: a coil takes true or false/,
    );
    await expect(s.adapter.write(s.point("f"), "hot")).rejects.toThrow(/point f: float32 takes a number/);
    expect(client.calls).toHaveLength(4);
  });

  it("plan() shows the coalesced requests per poll interval", () => {
    const s = modbus({ host: "h", maxGapRegisters: 4 }, [
      { id: "a", type: "float32", address: "hr:0" },
      { id: "b", type: "uint16", address: "hr:5" },
      { id: "c", type: "uint16", address: "hr:50" },
      { id: "d", type: "bool", address: "co:0", pollIntervalMs: 100 },
    ]);
    expect(s.adapter.plan()).toMatchObject({
      requestCount: 3,
      groups: [
        {
          pollIntervalMs: "device",
          requests: [
            { unitId: 1, table: "holding", function: "FC3", address: 0, count: 6, points: ["a", "b"] },
            { address: 50, count: 1, points: ["c"] },
          ],
        },
        { pollIntervalMs: 100, requests: [{ table: "coil", function: "FC1", points: ["d"] }] },
      ],
    });
  });

  it("refuses a transport without its address at create()", () => {
    expect(() => modbus({ transport: "rtu" }, [])).toThrow(/needs connection.serialPort/);
    expect(() => modbus({}, [])).toThrow(/needs connection.host/);
  });
});
