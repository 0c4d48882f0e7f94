/**
 * Timed-out requests on a shared line, over a fake client seam: a request whose retries are spent
 * marks its points bad at once (emitted during the read), and a demoted unit is probed on the
 * device's reconnect backoff (injected clock), so it is good again as soon as it answers.
 */
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/sdk/testing.js";
import { modbus, until } from "../../test/modbus/helpers.js";
import { type ModbusClient, ModbusError } from "./client.js";

/**
 * A fake line: each unit answers (registers hold their address), times out, or waits for a gate
 * the test opens. Records every request as `unit/table:address`.
 */
function fakeLine() {
  const calls: string[] = [];
  const silent = new Set<number>();
  const gates = new Map<number, Promise<void>>();
  const client: ModbusClient = {
    isOpen: true,
    async connect() {},
    async close() {},
    resync() {},
    async readRegisters(unit, table, address, count) {
      calls.push(`${unit}/${table}:${address}`);
      await gates.get(unit);
      await new Promise((r) => setImmediate(r)); // in flight across a turn of the event loop
      if (silent.has(unit)) throw new ModbusError("timeout", "Timeout");
      const out = new Uint8Array(count * 2);
      for (let i = 0; i < count; i++) out[2 * i + 1] = address + i;
      return out;
    },
    async readBits(unit, table, address, count) {
      calls.push(`${unit}/${table}:${address}`);
      if (silent.has(unit)) throw new ModbusError("timeout", "Timeout");
      return new Array(count).fill(true);
    },
    async writeCoils() {},
    async writeRegisters() {},
    async maskWriteRegister() {},
  };
  /** Holds `unit`'s requests until the returned function is called. */
  const hold = (unit: number) => {
    let open = () => {};
    gates.set(
      unit,
      new Promise<void>((resolve) => {
        open = resolve;
      }),
    );
    return () => {
      gates.delete(unit);
      open();
    };
  };
  return { client, calls, silent, hold };
}

const RTU = { transport: "rtu", serialPort: "/dev/null", retries: 1 };

describe("a request whose retries are spent (fake client)", () => {
  it.each(["rtu", "rtuOverTcp"])(
    "on %s marks its points bad/Timeout during the read, before the poll's other requests end",
    async (transport) => {
      const line = fakeLine();
      line.silent.add(7);
      const s = modbus(
        { ...RTU, transport, host: "h" },
        [
          { id: "alive", type: "uint16", address: "hr:3" },
          { id: "dead", type: "uint16", address: "hr:5", unitId: 7 },
          { id: "dead2", type: "uint16", address: "hr:6", unitId: 7 },
          { id: "later", type: "uint16", address: "ir:4", unitId: 9 },
        ],
        { client: line.client },
      );
      await s.adapter.start();
      const open = line.hold(9); // the last request of the poll is still on the line
      let done = false;
      const reading = s.adapter.read(s.all).then((r) => {
        done = true;
        return r;
      });
      await until(
        "the dead unit's points emitted",
        () => s.emitted.length === 2,
        2_000,
        () => s.emitted,
      );
      expect(done).toBe(false);
      expect(s.emitted).toEqual([
        { point: "dead", value: null, quality: "bad", status: "Timeout", address: "7/hr:5" },
        { point: "dead2", value: null, quality: "bad", status: "Timeout", address: "7/hr:6" },
      ]);
      // unit 1 answered, unit 7 was asked twice (one retry), unit 9 is waiting
      expect(line.calls).toEqual(["1/holding:3", "7/holding:5", "7/holding:5", "9/input:4"]);
      open();
      const rest = await reading;
      // returned: only the points not emitted, each once
      expect(rest.map((x) => [x.point, x.quality, x.value])).toEqual([
        ["alive", "good", 3],
        ["later", "good", 4],
      ]);
      await s.adapter.stop();
    },
  );

  it("a read of a single request returns its bad points instead of emitting them", async () => {
    const line = fakeLine();
    line.silent.add(1);
    const s = modbus(RTU, [{ id: "a", type: "uint16", address: "hr:0" }], { client: line.client });
    await s.adapter.start();
    expect(await s.readAll()).toMatchObject({ a: { quality: "bad", status: "Timeout" } });
    expect(s.emitted).toEqual([]);
  });

  it("an exception answer is not emitted early: the device answered at once", async () => {
    const line = fakeLine();
    line.client.readRegisters = async (unit) => {
      throw unit === 2 ? new ModbusError("exception", "x", 2) : new ModbusError("timeout", "Timeout");
    };
    const s = modbus(
      RTU,
      [
        { id: "refused", type: "uint16", address: "hr:0", unitId: 2 },
        { id: "silent", type: "uint16", address: "hr:0", unitId: 3 },
      ],
      { client: line.client },
    );
    await s.adapter.start();
    const got = await s.adapter.read(s.all);
    expect(got).toEqual([
      { point: "refused", value: null, quality: "bad", status: "IllegalDataAddress", address: "2/hr:0" },
    ]);
    expect(s.emitted.map((x) => [x.point, x.status])).toEqual([["silent", "Timeout"]]);
  });
});

describe("a demoted unit is probed on the device's reconnect backoff (fake client, injected clock)", () => {
  const points = [
    { id: "alive", type: "uint16", address: "hr:1" },
    { id: "dead", type: "uint16", address: "hr:2", unitId: 7 },
  ];
  const probesOf = (calls: string[]) => calls.filter((c) => c.startsWith("7/")).length;

  it("first probe after reconnect.minMs, doubling per failed probe up to reconnect.maxMs; good at the first answered probe", async () => {
    const line = fakeLine();
    line.silent.add(7);
    const clock = new FakeClock();
    const s = modbus({ ...RTU, retries: 0, demoteAfterTimeouts: 1 }, points, {
      client: line.client,
      clock,
      reconnect: { minMs: 100, maxMs: 400 },
    });
    await s.adapter.start();
    await s.readAll(); // times out: demoted for 100 ms
    expect(probesOf(line.calls)).toBe(1);
    // Each step: how far the clock moves, whether unit 7 is asked then.
    const steps: [number, boolean][] = [
      [99, false],
      [1, true], // probe at +100, fails: next wait 200
      [199, false],
      [1, true], // +200, fails: 400
      [399, false],
      [1, true], // +400, fails: capped at 400
      [399, false],
      [1, true], // +400 again
    ];
    for (const [ms, asked] of steps) {
      clock.advance(ms);
      const before = probesOf(line.calls);
      const got = await s.readAll();
      expect({ ms, asked: probesOf(line.calls) > before }).toEqual({ ms, asked });
      expect(got.dead).toMatchObject({
        point: "dead",
        quality: "bad",
        status: "Timeout",
      });
      expect(got.alive).toMatchObject({ quality: "good", value: 1 });
    }
    expect(s.metrics.counters.get("modbus_unit_demotions")).toBe(5);
    // The unit comes back: the next probe (400 ms on) reads it good, and so does every read after.
    line.silent.delete(7);
    clock.advance(399);
    expect((await s.readAll()).dead).toMatchObject({ quality: "bad", status: "Timeout" });
    clock.advance(1);
    expect((await s.readAll()).dead).toMatchObject({ quality: "good", value: 2 });
    expect((await s.readAll()).dead).toMatchObject({ quality: "good", value: 2 });
    // Silent again: the backoff starts over at reconnect.minMs.
    line.silent.add(7);
    await s.readAll();
    clock.advance(100);
    const before = probesOf(line.calls);
    await s.readAll();
    expect(probesOf(line.calls)).toBe(before + 1);
  });

  it("a restart (the core reconnecting) asks a demoted unit at once", async () => {
    const line = fakeLine();
    line.silent.add(7);
    const clock = new FakeClock();
    const s = modbus({ ...RTU, retries: 0, demoteAfterTimeouts: 1 }, points, {
      client: line.client,
      clock,
      reconnect: { minMs: 10_000, maxMs: 60_000 },
    });
    await s.adapter.start();
    await s.readAll(); // demoted for 10 s
    await s.readAll();
    expect(probesOf(line.calls)).toBe(1);
    await s.adapter.stop();
    line.silent.delete(7);
    await s.adapter.start();
    expect((await s.readAll()).dead).toMatchObject({ quality: "good", value: 2 });
    expect(probesOf(line.calls)).toBe(2);
  });

  it("demoteForMs, when set, caps the wait between probes below reconnect.maxMs", async () => {
    const line = fakeLine();
    line.silent.add(7);
    const clock = new FakeClock();
    const s = modbus({ ...RTU, retries: 0, demoteAfterTimeouts: 1, demoteForMs: 150 }, points, {
      client: line.client,
      clock,
      reconnect: { minMs: 100, maxMs: 10_000 },
    });
    await s.adapter.start();
    await s.readAll();
    for (const wait of [100, 150, 150, 150]) {
      clock.advance(wait - 1);
      const before = probesOf(line.calls);
      await s.readAll();
      expect(probesOf(line.calls)).toBe(before);
      clock.advance(1);
      await s.readAll();
      expect(probesOf(line.calls)).toBe(before + 1);
    }
  });

  it("with the core's default reconnect, probes start after reconnect.minMs (1 s)", async () => {
    const line = fakeLine();
    line.silent.add(7);
    const clock = new FakeClock();
    const s = modbus({ ...RTU, retries: 0, demoteAfterTimeouts: 1 }, points, { client: line.client, clock });
    await s.adapter.start();
    await s.readAll();
    clock.advance(999);
    await s.readAll();
    expect(probesOf(line.calls)).toBe(1);
    clock.advance(1);
    await s.readAll();
    expect(probesOf(line.calls)).toBe(2);
  });
});
