/**
 * A Modbus RTU line (socat pty pair) whose pymodbus goes silent (killed by PID, the serial line
 * stays open) and comes back, through the gateway: each request's points read bad/Timeout as
 * soon as that request's retries are spent, not when the whole poll ends (issue 14: they stayed
 * good for 12–16 s), the device stays up, and once pymodbus serves again the demoted units are
 * probed on the reconnect backoff and every point is good within seconds (it was a fixed 30 s).
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceSpec } from "../../src/core/device.js";
import { Gateway } from "../../src/core/gateway.js";
import { AdapterRegistry } from "../../src/core/registry.js";
import type { Reading } from "../../src/schema/reading.js";
import { type PymodbusPeer, pymodbusMissing, socatMissing, startPymodbusRtu } from "../peers/pymodbus.js";
import { until } from "./helpers.js";

const missing = pymodbusMissing() ?? socatMissing();

const TIMEOUT_MS = 300;
const RETRIES = 1;
/** One request's time while the line is silent. */
const REQUEST_MS = TIMEOUT_MS * (RETRIES + 1);

// Three requests per poll, in this order: unit 1 holding, unit 1 coils, unit 3 input registers.
const POINTS = [
  { id: "h0", type: "uint16", address: "hr:0" },
  { id: "h1", type: "uint16", address: "40002" },
  { id: "c0", type: "bool", address: "co:0" },
  { id: "u3", type: "uint16", address: "ir:1", unitId: 3 },
];
const EXPECTED: Record<string, unknown> = { h0: 100, h1: 200, c0: true, u3: 34 };
/** The points of each request of a poll. */
const REQUESTS = [["h0", "h1"], ["c0"], ["u3"]];
const POLL_MS = 200;

describe.skipIf(!!missing)(
  `modbus RTU line going silent and coming back (socat, pymodbus, gateway)${missing ? ` — SKIPPED: ${missing}` : ""}`,
  () => {
    let peer: PymodbusPeer;
    let gw: Gateway;
    /** Every reading published, with the wall time it reached the bus. */
    const seen: { at: number; r: Reading }[] = [];
    beforeAll(async () => {
      peer = await startPymodbusRtu({
        1: { hr: [100, 200, 0, 0], co: [true, false, false, false, false, false, false, false] },
        3: { ir: [33, 34] },
      });
      const device = {
        id: "line",
        type: "modbus",
        pollIntervalMs: POLL_MS,
        reconnect: { minMs: 200, maxMs: 1000 },
        connection: {
          transport: "rtu",
          serialPort: peer.serialPort,
          baudRate: 19200,
          timeoutMs: TIMEOUT_MS,
          retries: RETRIES,
        },
        points: POINTS,
      } as unknown as DeviceSpec;
      gw = new Gateway({
        id: "gw",
        dataDir: join(tmpdir(), "tb-modbus-rtu-silent"),
        devices: [device],
        registry: new AdapterRegistry(),
        log: pino({ level: "silent" }),
      });
      gw.bus.subscribe({
        name: "t",
        handle: (batch) => {
          const at = Date.now();
          for (const r of batch) seen.push({ at, r });
        },
      });
      gw.start();
    });
    afterAll(async () => {
      await gw?.stop();
      await peer?.stop();
    });

    const latest = () =>
      Object.fromEntries(gw.bus.latest({ devices: ["line"] }).map((r) => [r.point, r] as const));
    const allGood = () => {
      const l = latest();
      return POINTS.every((p) => l[p.id]?.quality === "good" && l[p.id]?.value === EXPECTED[p.id]);
    };
    const snapshot = () => ({ device: gw.device("line"), latest: latest() });

    it("each request's points go bad/Timeout as its retries are spent; all good again within seconds of the unit's return", async () => {
      await until("every point good", allGood, 10_000, snapshot);
      const killedAt = Date.now();
      const from = seen.length;
      await peer.kill();
      const timedOut = (id: string) =>
        seen.slice(from).find((x) => x.r.point === id && x.r.quality === "bad" && x.r.status === "Timeout");
      await until("every point bad/Timeout", () => POINTS.every((p) => timedOut(p.id)), 10_000, snapshot);
      const firstTimeout = (id: string) => timedOut(id)!.at;
      // Each request's points arrive on their own, one request's time after the previous
      // request's: not all together when the poll's last request has ended.
      const arrivals = REQUESTS.map((ids) => Math.min(...ids.map(firstTimeout))).sort((a, b) => a - b);
      for (let i = 1; i < arrivals.length; i++)
        expect(arrivals[i]! - arrivals[i - 1]!).toBeGreaterThanOrEqual(REQUEST_MS / 2);
      // The first of them within the request in progress and one more (plus a poll interval).
      expect(arrivals[0]! - killedAt).toBeLessThan(2 * REQUEST_MS + POLL_MS);
      // A silent line is not a lost connection: the device stays up, its points say why they are bad.
      expect(gw.device("line")?.state).toBe("degraded");
      expect(seen.slice(from).some((x) => x.r.status === "Disconnected")).toBe(false);

      // Let the units be demoted (they are then skipped, so a poll is quick), then bring pymodbus back.
      await until(
        "both units demoted",
        () => (gw.device("line")?.counters.lastReadMs ?? Infinity) < TIMEOUT_MS,
        15_000,
        snapshot,
      );
      await peer.restart();
      const back = Date.now();
      await until("every point good again", allGood, 8_000, snapshot);
      const recoveredMs = Date.now() - back;
      // The old fixed demotion waited 30 s; the reconnect backoff probes after 1 s, 2 s, 4 s at most.
      expect(recoveredMs).toBeLessThan(8_000);
      await until("device connected", () => gw.device("line")?.state === "connected", 2_000, snapshot);
    });
  },
);
