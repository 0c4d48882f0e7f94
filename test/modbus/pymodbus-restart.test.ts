/**
 * Regression (issue 14): a Modbus TCP device against pymodbus killed by PID and restarted on the
 * same port five times in a row, with points in every address form and values that never change.
 * After each kill every point reads bad/Disconnected on REST latest and the device is
 * `disconnected` with a reason; after each restart every point is good again and the device is
 * `connected`, not `degraded`. Before the core fix, points not written `hr:0`-style stayed
 * bad/Disconnected after the first restart (their value had not changed) and the device degraded.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceSpec } from "../../src/core/device.js";
import type { Reading } from "../../src/schema/reading.js";
import { type ApiFixture, apiFixture } from "../helpers/service.js";
import { type PymodbusPeer, pymodbusMissing, startPymodbusTcpOn } from "../peers/pymodbus.js";
import { until } from "./helpers.js";

const missing = pymodbusMissing();

const UNITS = {
  1: {
    hr: [1234, 777, 0xfffb, 0, 0, 0, 0, 0],
    ir: [42, 43, 44, 0],
    co: [true, true, false, false, false, false, false, false],
    di: [true, false, false, false, false, false, false, false],
    payloads: [{ type: "float32", value: 21.5, order: "ABCD", address: 3 }],
  },
  2: { hr: [555, 0] },
};

/** Every address form the adapter accepts, each with the value pymodbus serves for it. */
const POINTS: [Record<string, unknown>, unknown][] = [
  [{ id: "structured", type: "int16", table: "holding", address: 0 }, 1234],
  [{ id: "classic", type: "uint16", address: "40002" }, 777],
  [{ id: "shortType", type: "int16", address: "hr:2:int16" }, -5],
  [{ id: "shortFull", type: "float32", address: "hr:40004:float32:ABCD" }, 21.5],
  [{ id: "bitInRegister", type: "bool", table: "holding", address: 0, bit: 1 }, true],
  [{ id: "coilClassic", type: "bool", address: "00001" }, true],
  [{ id: "coilShort", type: "bool", address: "co:1" }, true],
  [{ id: "coilStructured", type: "bool", table: "coil", address: 2 }, false],
  [{ id: "discrete", type: "bool", address: "10001" }, true],
  [{ id: "inputClassic", type: "uint16", address: "30001" }, 42],
  [{ id: "inputShort", type: "uint16", address: "ir:1" }, 43],
  [{ id: "inputStructured", type: "uint16", table: "input", address: 2 }, 44],
  [{ id: "otherUnit", type: "uint16", address: "hr:0", unitId: 2 }, 555],
];
const EXPECTED = Object.fromEntries(POINTS.map(([p, v]) => [p.id as string, v]));
const OUTAGES = 5;

describe.skipIf(!!missing)(
  `modbus TCP: pymodbus killed and restarted ${OUTAGES} times${missing ? ` — SKIPPED: ${missing}` : ""}`,
  () => {
    let peer: PymodbusPeer;
    let f: ApiFixture;
    beforeAll(async () => {
      peer = await startPymodbusTcpOn(UNITS as never);
      const device = {
        id: "plc",
        type: "modbus",
        pollIntervalMs: 100,
        reconnect: { minMs: 100, maxMs: 400 },
        connection: { host: peer.host, port: peer.port, timeoutMs: 300, retries: 0 },
        points: POINTS.map(([p]) => p),
      } as unknown as DeviceSpec;
      f = await apiFixture([device]);
    });
    afterAll(async () => {
      await f?.close();
      await peer?.stop();
    });

    const get = async <T>(url: string): Promise<T> => {
      const res = await f.app.inject({ url, headers: { authorization: `Bearer ${f.tokens.viewer}` } });
      expect(res.statusCode).toBe(200);
      return res.json() as T;
    };
    const latest = async () =>
      Object.fromEntries(
        (await get<Reading[]>("/api/v1/readings/latest?device=plc")).map((r) => [r.point, r]),
      );
    const device = () => get<{ state: string; stateReason?: string }>("/api/v1/devices/plc");
    const allGood = async () => {
      const l = await latest();
      return (
        POINTS.every(([p]) => l[p.id as string]?.quality === "good") && (await device()).state === "connected"
      );
    };

    it("every point goes bad/Disconnected on each kill and good on each restart, whatever its address form", async () => {
      await until("every point good", allGood, 10_000);
      expect(Object.fromEntries(Object.entries(await latest()).map(([k, r]) => [k, r.value]))).toEqual(
        EXPECTED,
      );
      for (let outage = 1; outage <= OUTAGES; outage++) {
        const pid = peer.pid;
        await peer.kill();
        await until(
          `outage ${outage} (pid ${pid} killed): device disconnected and every point bad/Disconnected`,
          async () => {
            const l = await latest();
            const d = await device();
            return (
              d.state === "disconnected" &&
              POINTS.every(
                ([p]) => l[p.id as string]?.quality === "bad" && l[p.id as string]?.status === "Disconnected",
              )
            );
          },
          5_000,
          async () => ({ device: await device(), latest: await latest() }),
        );
        expect((await device()).stateReason).toMatch(/\w/);
        await peer.restart();
        await until(`restart ${outage}: device connected and every point good`, allGood, 5_000, async () => ({
          device: await device(),
          latest: await latest(),
        }));
        const l = await latest();
        expect(
          Object.fromEntries(
            POINTS.map(([p]) => [p.id, [l[p.id as string]?.quality, l[p.id as string]?.value]]),
          ),
        ).toEqual(Object.fromEntries(POINTS.map(([p, v]) => [p.id, ["good", v]])));
        expect((await device()).state).toBe("connected");
      }
      expect(f.gateway.device("plc")!.counters.reconnects).toBeGreaterThanOrEqual(OUTAGES);
    });
  },
);
