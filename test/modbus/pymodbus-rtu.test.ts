/**
 * RTU over a socat pty pair against pymodbus: values read and written over a serial line, and a
 * dead unit beside a healthy one on the same line (demoted, so the healthy one keeps being read).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/sdk/testing.js";
import { type ModbusPeer, pymodbusMissing, socatMissing, startPymodbusRtu } from "../peers/pymodbus.js";
import { modbus } from "./helpers.js";

const missing = pymodbusMissing() ?? socatMissing();

describe.skipIf(!!missing)(
  `modbus adapter over RTU (socat pty pair, pymodbus)${missing ? ` — SKIPPED: ${missing}` : ""}`,
  () => {
    let peer: ModbusPeer;
    beforeAll(async () => {
      peer = await startPymodbusRtu({
        1: {
          hr: [100, 200, 0, 0, 0, 0],
          co: [true, false, false, false, false, false, false, false, false, false],
          payloads: [{ type: "float32", value: -2.5, order: "CDAB", address: 2 }],
        } as never,
        3: { ir: [33, 34] },
      });
    });
    afterAll(async () => peer?.stop());

    const settings = (extra = {}) => ({
      transport: "rtu",
      serialPort: peer.serialPort,
      baudRate: 19200,
      timeoutMs: 300,
      retries: 0,
      ...extra,
    });

    it("reads registers and coils of two units on one line, and writes", async () => {
      const s = modbus(settings(), [
        { id: "a", type: "uint16", address: "40001" },
        { id: "f", type: "float32", address: "hr:40003:float32:CDAB", access: "readwrite" },
        { id: "c", type: "bool", address: "co:0" },
        { id: "u3", type: "uint16", address: "ir:1", unitId: 3 },
      ]);
      await s.adapter.start();
      try {
        const got = await s.readAll();
        expect(Object.fromEntries(Object.entries(got).map(([k, v]) => [k, [v.quality, v.value]]))).toEqual({
          a: ["good", 100],
          f: ["good", -2.5],
          c: ["good", true],
          u3: ["good", 34],
        });
        await s.adapter.write(s.point("f"), 7.25);
        expect((await s.readAll([s.point("f")])).f!.value).toBe(7.25);
      } finally {
        await s.adapter.stop();
      }
    });

    it("a bit inside a register written with FC22 is confirmed (not a Timeout) and leaves the other bits", async () => {
      const s = modbus(settings(), [
        { id: "word", type: "uint16", address: "hr:4", access: "readwrite" },
        { id: "b3", type: "bool", address: "hr:4", bit: 3, access: "readwrite" },
      ]);
      await s.adapter.start();
      try {
        await s.adapter.write(s.point("word"), 0b1000_0000_0000_0001);
        await s.adapter.write(s.point("b3"), true);
        expect((await s.readAll()).word?.value).toBe(0b1000_0000_0000_1001);
        await s.adapter.write(s.point("b3"), false);
        expect((await s.readAll()).word?.value).toBe(0b1000_0000_0000_0001);
        expect(s.metrics.counters.get("modbus_timeouts") ?? 0).toBe(0);
        expect(s.metrics.counters.get("modbus_writes")).toBe(3);
      } finally {
        await s.adapter.stop();
      }
    });

    it("a FC22 write the device refuses rejects with the exception name, not a Timeout", async () => {
      const s = modbus(settings(), [
        { id: "far", type: "bool", address: "hr:9000", bit: 0, access: "readwrite" },
      ]);
      await s.adapter.start();
      try {
        await expect(s.adapter.write(s.point("far"), true)).rejects.toThrow(
          /refused the write: IllegalDataAddress/,
        );
        expect(s.metrics.counters.get("modbus_timeouts") ?? 0).toBe(0);
      } finally {
        await s.adapter.stop();
      }
    });

    it("a dead unit on the line is demoted; the healthy unit keeps its reads", async () => {
      const clock = new FakeClock();
      const s = modbus(
        settings({ demoteAfterTimeouts: 1, demoteForMs: 60_000 }),
        [
          { id: "alive", type: "uint16", address: "hr:1" },
          { id: "dead", type: "uint16", address: "hr:1", unitId: 7 },
        ],
        { clock },
      );
      await s.adapter.start();
      try {
        const first = await s.readAll();
        expect(first.dead).toMatchObject({ quality: "bad", status: "Timeout" });
        expect(first.alive).toMatchObject({ quality: "good", value: 200 });
        for (let i = 0; i < 3; i++) {
          const t0 = performance.now();
          const got = await s.readAll();
          expect(got.alive).toMatchObject({ quality: "good", value: 200 });
          expect(got.dead).toMatchObject({ quality: "bad", status: "Timeout" });
          // no timeout was waited for: the demoted unit is not asked (a bound, not a performance claim)
          expect(performance.now() - t0).toBeLessThan(300);
        }
        expect(s.metrics.counters.get("modbus_timeouts")).toBe(1);
        expect(s.metrics.counters.get("modbus_unit_demotions")).toBe(1);
      } finally {
        await s.adapter.stop();
      }
    });
  },
);
