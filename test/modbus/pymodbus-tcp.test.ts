/**
 * The adapter against Debian's pymodbus over TCP, an independent implementation: every type and
 * byte order as encoded by pymodbus' own BinaryPayloadBuilder, bits, exceptions, timeouts and
 * unit demotion, and writes confirmed then read back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/sdk/testing.js";
import { type ModbusPeer, pymodbusMissing, startPymodbusTcp } from "../peers/pymodbus.js";
import { modbus } from "./helpers.js";

const missing = pymodbusMissing();

const ORDERS = ["ABCD", "BADC", "CDAB", "DCBA"] as const;
const NUMBERS: [string, number | bigint, number][] = [
  ["int16", -1234, 1],
  ["uint16", 54321, 1],
  ["int32", -123456789, 2],
  ["uint32", 3123456789, 2],
  ["float32", 123.456, 2],
  ["int64", -1234567890123456789n, 4],
  ["uint64", 12345678901234567890n, 4],
  ["float64", -9876.54321, 4],
];

// Lay every type × order out in holding registers, each at its own address.
const payloads: Record<string, unknown>[] = [];
const points: Record<string, unknown>[] = [];
const expected: Record<string, unknown> = {};
let next = 0;
for (const [type, value, words] of NUMBERS) {
  for (const order of ORDERS) {
    const id = `${type}_${order}`;
    payloads.push({
      type,
      value: typeof value === "bigint" ? value.toString() : value,
      order,
      address: next,
    });
    const byteOrder =
      words === 4 ? { ABCD: "ABCDEFGH", BADC: "BADCFEHG", CDAB: "GHEFCDAB", DCBA: "HGFEDCBA" }[order] : order;
    // 64-bit points alternate between the 4- and the 8-letter spelling of the same order.
    points.push({ id, type, address: `hr:${next}`, byteOrder: next % 8 === 0 ? order : byteOrder });
    expected[id] = type === "float32" ? Math.fround(value as number) : value;
    next += words;
  }
}

describe.skipIf(!!missing)(
  `modbus adapter against pymodbus (TCP)${missing ? ` — SKIPPED: ${missing}` : ""}`,
  () => {
    let peer: ModbusPeer;
    beforeAll(async () => {
      peer = await startPymodbusTcp({
        1: {
          hr: new Array(next + 20).fill(0),
          ir: [11, 22, 33, 0x8001],
          co: [true, false, true, true, false, false, false, false, true, false],
          di: [false, true, false, false, false, false, false, false, false, false],
          payloads: [...payloads, { type: "string", value: "PUMP-7", address: next + 2 }],
        } as never,
        2: { hr: [777, 0, 0, 0], ir: [1, 2] },
      });
    });
    afterAll(async () => peer?.stop());

    const settings = () => ({ host: peer.host, port: peer.port, timeoutMs: 500, retries: 0 });

    it("reads every numeric type in every byte order exactly as pymodbus encoded it", async () => {
      const s = modbus(settings(), points);
      await s.adapter.start();
      try {
        const got = await s.readAll();
        for (const p of points) {
          expect({
            id: p.id,
            quality: got[p.id as string]?.quality,
            value: got[p.id as string]?.value,
          }).toEqual({
            id: p.id,
            quality: "good",
            value: expected[p.id as string],
          });
        }
        // coalesced: all of it in ceil(next / 125) holding requests
        expect(s.metrics.counters.get("modbus_requests")).toBe(Math.ceil(next / 125));
      } finally {
        await s.adapter.stop();
      }
    });

    it("reads strings, coils, discrete inputs, input registers, bits in registers and other unit ids", async () => {
      const s = modbus(settings(), [
        { id: "name", type: "string", address: `hr:${next + 2}`, length: 8 },
        { id: "c0", type: "bool", address: "00001" },
        { id: "c1", type: "bool", address: "co:1" },
        { id: "coils", type: "bool[]", address: "co:0", count: 9 },
        { id: "d1", type: "bool", address: "10002" },
        { id: "ir2", type: "uint16", address: "30003" },
        { id: "ir3_bit0", type: "bool", address: 3, table: "input", bit: 0 },
        { id: "ir3_bit15", type: "bool", address: 3, table: "input", bit: 15 },
        { id: "ir3_bit1", type: "bool", address: 3, table: "input", bit: 1 },
        { id: "u2", type: "int16", address: "hr:0", unitId: 2 },
      ]);
      await s.adapter.start();
      try {
        const got = await s.readAll();
        const values = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, v.value]));
        expect(values).toEqual({
          name: "PUMP-7",
          c0: true,
          c1: false,
          coils: [true, false, true, true, false, false, false, false, true],
          d1: true,
          ir2: 33,
          ir3_bit0: true,
          ir3_bit15: true,
          ir3_bit1: false,
          u2: 777,
        });
        expect(got.u2!.address).toBe("2/hr:0");
      } finally {
        await s.adapter.stop();
      }
    });

    it("an exception marks only the points of its request bad, with the exception's name", async () => {
      const s = modbus({ ...settings(), maxGapRegisters: 0 }, [
        { id: "ok", type: "uint16", address: "ir:0" },
        { id: "missing", type: "uint16", address: "ir:500" },
        { id: "ok2", type: "int16", address: "hr:0", unitId: 2 },
      ]);
      await s.adapter.start();
      try {
        const got = await s.readAll();
        expect(got.ok).toMatchObject({ quality: "good", value: 11 });
        expect(got.ok2).toMatchObject({ quality: "good", value: 777 });
        expect(got.missing).toMatchObject({ quality: "bad", value: null, status: "IllegalDataAddress" });
        expect(s.metrics.counters.get("modbus_exceptions")).toBe(1);
      } finally {
        await s.adapter.stop();
      }
    });

    it("a unit that never answers times out, is retried, then demoted while the healthy unit keeps reading", async () => {
      const clock = new FakeClock();
      const s = modbus(
        { ...settings(), timeoutMs: 200, retries: 1, demoteAfterTimeouts: 2 },
        [
          { id: "alive", type: "uint16", address: "ir:1" },
          { id: "dead", type: "uint16", address: "ir:1", unitId: 9 },
        ],
        { clock, reconnect: { minMs: 10_000, maxMs: 60_000 } },
      );
      await s.adapter.start();
      try {
        const first = await s.readAll();
        expect(first.alive).toMatchObject({ quality: "good", value: 22 });
        expect(first.dead).toMatchObject({ quality: "bad", status: "Timeout" });
        expect(s.metrics.counters.get("modbus_timeouts")).toBe(2); // one retry
        await s.readAll();
        expect(s.metrics.counters.get("modbus_unit_demotions")).toBe(1);
        const sent = s.metrics.counters.get("modbus_requests")!;
        const demoted = await s.readAll();
        expect(demoted.dead).toMatchObject({ quality: "bad", status: "Timeout" });
        expect(demoted.alive).toMatchObject({ quality: "good", value: 22 });
        expect(s.metrics.counters.get("modbus_requests")).toBe(sent + 1); // only the healthy unit was asked
        clock.advance(9_999);
        await s.readAll(); // still demoted: the first probe is due reconnect.minMs after the demotion
        expect(s.metrics.counters.get("modbus_requests")).toBe(sent + 2);
        clock.advance(1);
        await s.readAll(); // one probe, no retry, demoted again
        expect(s.metrics.counters.get("modbus_requests")).toBe(sent + 4);
        expect(s.metrics.counters.get("modbus_unit_demotions")).toBe(2);
      } finally {
        await s.adapter.stop();
      }
    });

    it("writes every register type and coils, confirmed by the device, and reads them back", async () => {
      const pts = [
        { id: "w_f32", type: "float32", address: "hr:0", byteOrder: "CDAB", access: "readwrite" },
        { id: "w_i16", type: "int16", address: "hr:2", access: "readwrite" },
        { id: "w_u64", type: "uint64", address: "hr:3", byteOrder: "DCBA", access: "readwrite" },
        { id: "w_str", type: "string", address: "hr:7", length: 6, access: "readwrite" },
        { id: "w_coil", type: "bool", address: "co:5", access: "readwrite" },
        { id: "w_coils", type: "bool[]", address: "co:6", count: 3, access: "readwrite" },
        { id: "w_i32s", type: "int32[]", address: "hr:10", count: 2, byteOrder: "BADC", access: "readwrite" },
      ];
      const s = modbus(
        { ...settings(), unitId: 2 },
        pts.map((p) => ({ ...p, unitId: 1, address: `${p.address}` })),
      );
      await s.adapter.start();
      try {
        const values: Record<string, unknown> = {
          w_f32: 21.5,
          w_i16: -300,
          w_u64: "18446744073709551000",
          w_str: "AB-12",
          w_coil: true,
          w_coils: [true, true, false],
          w_i32s: [-5, 70000],
        };
        for (const [id, v] of Object.entries(values))
          await expect(s.adapter.write(s.point(id), v)).resolves.toEqual({});
        const got = await s.readAll();
        expect(Object.fromEntries(Object.entries(got).map(([k, v]) => [k, v.value]))).toEqual({
          ...values,
          w_u64: 18446744073709551000n,
        });
        expect(s.metrics.counters.get("modbus_writes")).toBe(7);
      } finally {
        await s.adapter.stop();
      }
    });

    it("writes one bit inside a holding register (FC22), leaving the register's other bits as they were", async () => {
      const s = modbus({ ...settings(), unitId: 1 }, [
        { id: "word", type: "uint16", address: "hr:20", access: "readwrite" },
        { id: "b3", type: "bool", address: "hr:20", bit: 3, access: "readwrite" },
        { id: "b12", type: "bool", address: "hr:20", bit: 12, byteOrder: "BADC", access: "readwrite" },
      ]);
      await s.adapter.start();
      try {
        await s.adapter.write(s.point("word"), 0b1010_0000_0000_0001);
        await s.adapter.write(s.point("b3"), true);
        expect((await s.readAll()).word?.value).toBe(0b1010_0000_0000_1001);
        await s.adapter.write(s.point("b3"), false);
        // bit 12 as the point reads it (bytes swapped): bit 4 of the register on the wire
        await s.adapter.write(s.point("b12"), true);
        const got = await s.readAll();
        expect(got.word?.value).toBe(0b1010_0000_0001_0001);
        expect([got.b3?.value, got.b12?.value]).toEqual([false, true]);
      } finally {
        await s.adapter.stop();
      }
    });

    it("a write the device refuses rejects with the exception name", async () => {
      const s = modbus(settings(), [{ id: "far", type: "uint16", address: "hr:9000", access: "readwrite" }]);
      await s.adapter.start();
      try {
        await expect(s.adapter.write(s.point("far"), 1)).rejects.toThrow(
          /refused the write: IllegalDataAddress/,
        );
      } finally {
        await s.adapter.stop();
      }
    });
  },
);
