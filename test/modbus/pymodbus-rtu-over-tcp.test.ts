/**
 * RTU over TCP against pymodbus: the serial line of a socat pty pair is served on a TCP port by a
 * second socat (as a serial device server does), so the adapter speaks raw RTU frames over a socket
 * to an independent implementation. FC22 bit writes are confirmed; so are plain writes and reads.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, stopChild } from "../peers/process.js";
import { type ModbusPeer, pymodbusMissing, socatMissing, startPymodbusRtu } from "../peers/pymodbus.js";
import { modbus } from "./helpers.js";

const missing = pymodbusMissing() ?? socatMissing();

/** Resolves once socat logs that it listens; rejects when it exits first or after `ms`. */
function listening(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`socat did not listen within ${ms} ms: ${log}`)), ms);
    child.stderr?.on("data", (d: Buffer) => {
      log += d;
      if (/listening on/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`socat exited with ${code}: ${log}`)));
  });
}

describe.skipIf(!!missing)(
  `modbus adapter over rtuOverTcp (socat TCP to a pty pair, pymodbus RTU)${missing ? ` — SKIPPED: ${missing}` : ""}`,
  () => {
    let peer: ModbusPeer;
    let bridge: ChildProcess;
    let port: number;
    beforeAll(async () => {
      peer = await startPymodbusRtu({ 1: { hr: [7, 0, 0, 0, 0, 0, 0, 0, 0, 0] } });
      port = await freePort();
      // One forked child per connection opens the pty. No probe connection first: a probe's child
      // could still hold the pty, and read replies, when the adapter's connection arrives.
      bridge = spawn(
        "socat",
        [
          "-d",
          "-d",
          `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`,
          `FILE:${peer.serialPort},raw,echo=0`,
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      await listening(bridge, 5_000);
    });
    afterAll(async () => {
      await stopChild(bridge, 2_000);
      await peer?.stop();
    });

    it("reads, writes a register, and a FC22 bit write is confirmed (not a Timeout)", async () => {
      const s = modbus({ transport: "rtuOverTcp", host: "127.0.0.1", port, timeoutMs: 1000, retries: 0 }, [
        { id: "word", type: "uint16", address: "hr:0", access: "readwrite" },
        { id: "b0", type: "bool", address: "hr:0", bit: 0, access: "readwrite" },
        { id: "b15", type: "bool", address: "hr:0", bit: 15, access: "readwrite" },
      ]);
      await s.adapter.start();
      try {
        expect((await s.readAll()).word).toMatchObject({ quality: "good", value: 7 });
        await s.adapter.write(s.point("word"), 0b0000_0000_0000_0110);
        await s.adapter.write(s.point("b0"), true);
        await s.adapter.write(s.point("b15"), true);
        const got = await s.readAll();
        expect([got.word?.value, got.b0?.value, got.b15?.value]).toEqual([0b1000_0000_0000_0111, true, true]);
        await s.adapter.write(s.point("b15"), false);
        expect((await s.readAll()).word?.value).toBe(0b0000_0000_0000_0111);
        expect(s.metrics.counters.get("modbus_timeouts") ?? 0).toBe(0);
        expect(s.metrics.counters.get("modbus_writes")).toBe(4);
      } finally {
        await s.adapter.stop();
      }
    });
  },
);
