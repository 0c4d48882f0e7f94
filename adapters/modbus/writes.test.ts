/**
 * Writes over a fake client seam: what a point cannot hold is refused (WriteRefused InvalidValue)
 * with nothing sent; a write to a unit that stopped answering is refused at once (NotConnected),
 * also when the unit is demoted while the write waits for the line; 64-bit integers are encoded.
 */
import { describe, expect, it } from "vitest";
import { WriteRefused } from "../../src/sdk/index.js";
import { FakeClock } from "../../src/sdk/testing.js";
import { modbus } from "../../test/modbus/helpers.js";
import { type ModbusClient, ModbusError } from "./client.js";

/** A fake line: silent units time out; reads of a held unit wait for the test; every request is recorded. */
function fakeLine() {
  const calls: string[] = [];
  const silent = new Set<number>();
  let gate: Promise<void> | undefined;
  const client: ModbusClient = {
    isOpen: true,
    async connect() {},
    async close() {},
    resync() {},
    async readRegisters(unit, table, address, count) {
      calls.push(`read ${unit}/${table}:${address}`);
      await gate;
      if (silent.has(unit)) throw new ModbusError("timeout", "Timeout");
      return new Uint8Array(count * 2);
    },
    async readBits(unit, table, address, count) {
      calls.push(`read ${unit}/${table}:${address}`);
      return new Array(count).fill(false);
    },
    async writeCoils(unit, address, values) {
      calls.push(`write ${unit}/co:${address}=${values.join(",")}`);
      if (silent.has(unit)) throw new ModbusError("timeout", "Timeout");
    },
    async writeRegisters(unit, address, words) {
      calls.push(`write ${unit}/hr:${address}=${words.map((w) => w.toString(16)).join(",")}`);
      if (silent.has(unit)) throw new ModbusError("timeout", "Timeout");
    },
    async maskWriteRegister(unit, address, andMask, orMask) {
      calls.push(`mask ${unit}/hr:${address} ${andMask.toString(16)} ${orMask.toString(16)}`);
    },
  };
  const hold = () => {
    let open = () => {};
    gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    return () => {
      gate = undefined;
      open();
    };
  };
  return { client, calls, silent, hold };
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("values a Modbus point cannot hold are refused before anything is sent", () => {
  const points = [
    { id: "f", type: "float32", address: "hr:0", access: "readwrite" },
    { id: "s", type: "string", address: "hr:10", length: 4, access: "readwrite" },
    { id: "i", type: "int16", address: "hr:20", access: "readwrite" },
    { id: "c", type: "bool[]", address: "co:0", count: 2, access: "readwrite" },
  ];

  it.each<[string, unknown, RegExp]>([
    ["f", 1e39, /float32 cannot hold 1e\+39/],
    ["s", "ABCDE", /string of length 4 cannot hold "ABCDE"/],
    ["s", "€uro", /latin1/],
    ["i", 40000, /int16 takes an integer in -32768\.\.32767/],
    ["i", 1.5, /int16 takes an integer/],
    ["c", [true], /an array of 2 booleans/],
  ])("%s = %j: WriteRefused InvalidValue, no request", async (id, value, message) => {
    const line = fakeLine();
    const s = modbus({ host: "h" }, points, { client: line.client });
    await s.adapter.start();
    const err = await refusal(s.adapter.write(s.point(id), value));
    expect(err).toBeInstanceOf(WriteRefused);
    expect(err).toMatchObject({ reason: "InvalidValue", message: expect.stringMatching(message) });
    expect(line.calls).toEqual([]);
    expect(s.metrics.counters.get("modbus_requests") ?? 0).toBe(0);
  });

  it("encodes int64 and uint64 handed over as bigint, beyond 2^53 too", async () => {
    const line = fakeLine();
    const s = modbus(
      { host: "h" },
      [
        { id: "i64", type: "int64", address: "hr:0", access: "readwrite" },
        { id: "u64", type: "uint64", address: "hr:4", byteOrder: "DCBA", access: "readwrite" },
      ],
      { client: line.client },
    );
    await s.adapter.start();
    await s.adapter.write(s.point("i64"), -2n);
    await s.adapter.write(s.point("u64"), 0x0102030405060708n);
    expect(line.calls).toEqual(["write 1/hr:0=ffff,ffff,ffff,fffe", "write 1/hr:4=807,605,403,201"]);
    const err = await refusal(s.adapter.write(s.point("u64"), 2n ** 64n));
    expect(err).toMatchObject({ reason: "InvalidValue" });
  });
});

describe("a write to a unit that stopped answering is refused at once", () => {
  const RTU = { transport: "rtu", serialPort: "/dev/null", retries: 0, demoteAfterTimeouts: 2 };
  const points = [
    { id: "alive", type: "uint16", address: "hr:1", access: "readwrite" },
    { id: "dead", type: "uint16", address: "hr:1", unitId: 7, access: "readwrite" },
  ];

  it("a demoted unit: NotConnected naming the unit and its next probe, nothing sent; other units still written", async () => {
    const line = fakeLine();
    line.silent.add(7);
    const clock = new FakeClock();
    const s = modbus(RTU, points, { client: line.client, clock, reconnect: { minMs: 5_000, maxMs: 60_000 } });
    await s.adapter.start();
    await s.readAll();
    await s.readAll(); // second consecutive timeout: unit 7 is demoted
    expect(s.metrics.counters.get("modbus_unit_demotions")).toBe(1);
    line.calls.length = 0;
    clock.advance(1_000);
    const err = await refusal(s.adapter.write(s.point("dead"), 5));
    expect(err).toBeInstanceOf(WriteRefused);
    expect(err).toMatchObject({
      reason: "NotConnected",
      message: "point dead: unit 7 is not answering (2 consecutive timeouts); next probe in 4000 ms",
    });
    await s.adapter.write(s.point("alive"), 5);
    expect(line.calls).toEqual(["write 1/hr:1=5"]);
  });

  it("once its probe is due and until it answers, still refused; after it answers, written again", async () => {
    const line = fakeLine();
    line.silent.add(7);
    const clock = new FakeClock();
    const s = modbus(RTU, points, { client: line.client, clock, reconnect: { minMs: 100, maxMs: 400 } });
    await s.adapter.start();
    await s.readAll();
    await s.readAll();
    clock.advance(100); // the probe is due: the next read asks
    await expect(refusal(s.adapter.write(s.point("dead"), 5))).resolves.toMatchObject({
      reason: "NotConnected",
      message: expect.stringMatching(/its next read probes it/),
    });
    line.silent.delete(7);
    expect((await s.readAll()).dead).toMatchObject({ quality: "good" });
    await s.adapter.write(s.point("dead"), 5);
    expect(line.calls.at(-1)).toBe("write 7/hr:1=5");
  });

  it("a write waiting behind the reads that demote its unit is refused, not sent when the line frees", async () => {
    const line = fakeLine();
    line.silent.add(7);
    const s = modbus({ ...RTU, demoteAfterTimeouts: 1 }, points, { client: line.client });
    await s.adapter.start();
    const open = line.hold();
    const reading = s.readAll(); // holds the line: the write must wait for it
    const writing = refusal(s.adapter.write(s.point("dead"), 5));
    open();
    await reading;
    expect(await writing).toMatchObject({ reason: "NotConnected" });
    expect(line.calls.filter((c) => c.startsWith("write"))).toEqual([]);
  });

  it("writes that time out count toward demotion, like reads", async () => {
    const line = fakeLine();
    line.silent.add(7);
    const s = modbus(RTU, points, { client: line.client });
    await s.adapter.start();
    for (let i = 0; i < 2; i++)
      await expect(s.adapter.write(s.point("dead"), i)).rejects.toThrow(/write not confirmed: Timeout/);
    await expect(refusal(s.adapter.write(s.point("dead"), 9))).resolves.toMatchObject({
      reason: "NotConnected",
    });
    expect(line.calls).toEqual(["write 7/hr:1=0", "write 7/hr:1=1"]);
  });
});
