/**
 * Writes through the REST API to pymodbus on a serial line (socat pty pair): what a point cannot
 * hold is a 422 and the register keeps its value; a scaled point answers with the value written
 * after rounding; int64 beyond 2^53 round-trips; a FC22 bit write is confirmed (200, not 502
 * Timeout); a write to a unit that stopped answering is a 503 at once. Every attempt is audited.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceSpec } from "../../src/core/device.js";
import { type ApiFixture, apiFixture } from "../helpers/service.js";
import { type ModbusPeer, pymodbusMissing, socatMissing, startPymodbusRtu } from "../peers/pymodbus.js";
import { until } from "./helpers.js";

const missing = pymodbusMissing() ?? socatMissing();

describe.skipIf(!!missing)(
  `PUT a Modbus point over RTU (pymodbus, socat pty pair)${missing ? ` — SKIPPED: ${missing}` : ""}`,
  () => {
    let peer: ModbusPeer;
    let f: ApiFixture;
    beforeAll(async () => {
      peer = await startPymodbusRtu({ 1: { hr: new Array(20).fill(0) } });
      const device = {
        id: "plc",
        type: "modbus",
        pollIntervalMs: 100,
        // The silent unit is demoted after two polls and not probed again during the test. Two, and a
        // generous timeout, so that one late answer of the live unit on a loaded machine demotes nothing.
        reconnect: { minMs: 60_000, maxMs: 60_000 },
        connection: {
          transport: "rtu",
          serialPort: peer.serialPort,
          baudRate: 19200,
          timeoutMs: 1000,
          retries: 0,
          demoteAfterTimeouts: 2,
        },
        points: [
          { id: "f32", type: "float32", address: "hr:0", access: "readwrite" },
          { id: "name", type: "string", address: "hr:2", length: 4, access: "readwrite" },
          { id: "scaled", type: "int16", address: "hr:6", scale: 0.1, access: "readwrite" },
          { id: "big", type: "int64", address: "hr:8", access: "readwrite" },
          { id: "word", type: "uint16", address: "hr:12", access: "readwrite" },
          { id: "bit3", type: "bool", address: "hr:12", bit: 3, access: "readwrite" },
          { id: "dead", type: "uint16", address: "hr:0", unitId: 9, access: "readwrite" },
        ],
      } as unknown as DeviceSpec;
      f = await apiFixture([device]);
      const demotions = () =>
        f.gateway.metrics.registry
          .getSingleMetric("tagbridge_adapter_modbus_unit_demotions_total")
          ?.get()
          .then((m) => m.values.reduce((n, v) => n + v.value, 0)) ?? Promise.resolve(0);
      await until("unit 9 demoted", async () => (await demotions()) >= 1, 15_000);
    });
    afterAll(async () => {
      await f?.close();
      await peer?.stop();
    });

    const latest = (point: string) => f.gateway.bus.latest({ devices: ["plc"], points: [point] })[0];
    const put = (point: string, value: unknown) =>
      f.app.inject({
        method: "PUT",
        url: `/api/v1/devices/plc/points/${point}/value`,
        headers: { authorization: `Bearer ${f.tokens.operator}` },
        payload: { value },
      });
    /** Waits until the point's latest good reading is `value`: what the device holds. */
    const reads = (point: string, value: unknown) =>
      until(
        `${point} reads ${JSON.stringify(value)}`,
        () => latest(point)?.quality === "good" && latest(point)?.value === value,
        5_000,
        () => latest(point),
      );

    it("values the point cannot hold are 422 before anything is sent; the registers keep their values", async () => {
      expect((await put("f32", 1.5)).statusCode).toBe(200);
      expect((await put("name", "AB")).statusCode).toBe(200);
      await reads("f32", 1.5);
      await reads("name", "AB");
      const refused: [string, unknown, RegExp][] = [
        ["f32", 1e39, /float32/],
        ["name", "ABCDE", /string of length 4 cannot hold "ABCDE"/],
        ["name", "€", /latin1/],
        ["scaled", 5000, /int16 after scaling/],
        ["f32", null, /must not be null/],
        ["big", null, /must not be null/],
      ];
      for (const [point, value, message] of refused) {
        const res = await put(point, value);
        expect(res.statusCode, `${point}=${JSON.stringify(value)}: ${res.body}`).toBe(422);
        expect(res.json().error).toMatchObject({
          code: "TB_ERR_INVALID_VALUE",
          details: [{ message: expect.stringMatching(message) }],
        });
      }
      expect((await f.audit.read(refused.length)).map((e) => [e.point, e.outcome, e.code])).toEqual(
        refused.map(([point]) => [point, "refused", "TB_ERR_INVALID_VALUE"]).reverse(),
      );
      // Two more polls (report by exception publishes only changes): the device still holds the
      // values written before the refusals.
      const polls = () => f.gateway.device("plc")!.counters.reads;
      const before = polls();
      await until("two more polls", () => polls() > before + 1);
      expect([latest("f32")?.value, latest("name")?.value]).toEqual([1.5, "AB"]);
    });

    it("a scaled point answers with the value written after rounding, as the next read shows", async () => {
      const res = await put("scaled", 12.34);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ value: 12.3, requested: 12.34 });
      expect((await f.audit.read(1))[0]).toMatchObject({
        point: "scaled",
        newValue: 12.34,
        written: 12.3,
        outcome: "ok",
      });
      await reads("scaled", 12.3);
    });

    it("int64 beyond 2^53 is written exactly", async () => {
      const res = await put("big", "-9007199254740993");
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().value).toBe("-9007199254740993");
      await reads("big", "-9007199254740993");
    });

    it("a bit inside a register (FC22) is confirmed over RTU: 200, and the register's other bits stay", async () => {
      expect((await put("word", 0b1000_0000_0000_0001)).statusCode).toBe(200);
      const res = await put("bit3", true);
      expect(res.statusCode, res.body).toBe(200);
      await reads("word", 0b1000_0000_0000_1001);
      expect((await f.audit.read(1))[0]).toMatchObject({ point: "bit3", outcome: "ok" });
    });

    it("a write to a unit that stopped answering is refused at once with 503, and audited", async () => {
      const t0 = performance.now();
      const res = await put("dead", 1);
      // No request was sent: the answer does not wait for the line's 1 s timeout (a bound, not a benchmark).
      expect(performance.now() - t0).toBeLessThan(500);
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json().error).toMatchObject({
        code: "TB_ERR_DEVICE_NOT_CONNECTED",
        details: [{ message: expect.stringMatching(/unit 9 is not answering .*next probe in \d+ ms/) }],
      });
      expect((await f.audit.read(1))[0]).toMatchObject({
        point: "dead",
        outcome: "refused",
        code: "TB_ERR_DEVICE_NOT_CONNECTED",
      });
    });
  },
);
