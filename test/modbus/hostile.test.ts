/**
 * A misbehaving server over `net`: lying MBAP lengths, truncated frames, wrong function codes,
 * garbage, bad CRCs (RTU over TCP). None may crash the process or stall the connection: the
 * request's points read bad, the error is counted, and the next poll reads good values.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { modbus } from "./helpers.js";

type Mode =
  | "good"
  | "badLength"
  | "shortLength"
  | "truncated"
  | "wrongFc"
  | "garbage"
  | "badCrc"
  | "wrongUnit";

function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >> 1) ^ 0xa001 : crc >> 1;
  }
  return crc;
}

/** The PDU answering FC3 `address`/`count` with register i = address + i. */
function goodPdu(address: number, count: number): Buffer {
  const pdu = Buffer.alloc(2 + count * 2);
  pdu[0] = 3;
  pdu[1] = count * 2;
  for (let i = 0; i < count; i++) pdu.writeUInt16BE(address + i, 2 + i * 2);
  return pdu;
}

function answer(mode: Mode, tid: number, unit: number, address: number, count: number, rtu: boolean): Buffer {
  let pdu = goodPdu(address, count);
  if (mode === "truncated") pdu = pdu.subarray(0, 2 + Math.max(0, count * 2 - 2));
  if (mode === "wrongFc") pdu[0] = 4;
  if (mode === "garbage") return Buffer.from("\x00\x01garbage that is not modbus at all\xff\xff", "latin1");
  const u = mode === "wrongUnit" ? unit + 1 : unit;
  if (rtu) {
    const frame = Buffer.concat([Buffer.from([u]), pdu, Buffer.alloc(2)]);
    frame.writeUInt16LE(crc16(frame.subarray(0, -2)) ^ (mode === "badCrc" ? 0x5a5a : 0), frame.length - 2);
    return frame;
  }
  const mbap = Buffer.alloc(7);
  mbap.writeUInt16BE(tid, 0);
  mbap.writeUInt16BE(mode === "badLength" ? 0xfff0 : mode === "shortLength" ? 1 : pdu.length + 1, 4);
  mbap[6] = u;
  return Buffer.concat([mbap, pdu]);
}

/** A server that answers request n with `modes[n]` (then good), over MBAP or RTU framing. */
async function hostile(
  modes: Mode[],
  rtu = false,
): Promise<{ server: Server; port: number; served: () => number }> {
  let n = 0;
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => undefined);
    let buf = Buffer.alloc(0);
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      const size = rtu ? 8 : 12;
      while (buf.length >= size) {
        const req = buf.subarray(0, size);
        buf = buf.subarray(size);
        const off = rtu ? 0 : 6;
        const tid = rtu ? 0 : req.readUInt16BE(0);
        const mode = modes[n++] ?? "good";
        sock.write(answer(mode, tid, req[off]!, req.readUInt16BE(off + 2), req.readUInt16BE(off + 4), rtu));
      }
    });
  });
  server.on("close", () => {
    for (const s of sockets) s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as { port: number }).port, served: () => n };
}

let servers: Server[] = [];
afterEach(async () => {
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
  servers = [];
});

const points = [{ id: "r", type: "uint16[]", address: "hr:10", count: 3 }];

describe("a hostile Modbus TCP server", () => {
  it.each<[Mode, string]>([
    ["badLength", "Timeout"],
    ["shortLength", "MalformedResponse"],
    ["truncated", "MalformedResponse"],
    ["wrongFc", "MalformedResponse"],
    ["garbage", "Timeout"],
    ["wrongUnit", "MalformedResponse"],
  ])("%s: the points read bad/%s, the error is counted, the next poll works", async (mode, status) => {
    const h = await hostile([mode]);
    servers.push(h.server);
    const s = modbus({ host: "127.0.0.1", port: h.port, timeoutMs: 200, retries: 0 }, points);
    await s.adapter.start();
    try {
      const bad = await s.readAll();
      expect(bad.r).toMatchObject({ quality: "bad", value: null, status });
      const counted =
        (s.metrics.counters.get("modbus_malformed_responses") ?? 0) +
        (s.metrics.counters.get("modbus_timeouts") ?? 0);
      expect(counted).toBe(1);
      let good = await s.readAll();
      // a stray trailing frame may cost one more poll; never more
      if (good.r?.quality !== "good") good = await s.readAll();
      expect(good.r).toMatchObject({ quality: "good", value: [10, 11, 12] });
    } finally {
      await s.adapter.stop();
    }
  });

  it("retries a malformed answer and succeeds within the same poll", async () => {
    const h = await hostile(["wrongFc"]);
    servers.push(h.server);
    const s = modbus({ host: "127.0.0.1", port: h.port, timeoutMs: 200, retries: 1 }, points);
    await s.adapter.start();
    try {
      expect((await s.readAll()).r).toMatchObject({ quality: "good", value: [10, 11, 12] });
      expect(s.metrics.counters.get("modbus_malformed_responses")).toBe(1);
    } finally {
      await s.adapter.stop();
    }
  });
});

describe("a hostile RTU-over-TCP server", () => {
  it.each<[Mode, string]>([
    ["badCrc", "MalformedResponse"],
    ["truncated", "Timeout"],
    ["garbage", "Timeout"],
  ])("%s: bad/%s, counted, then good", async (mode, status) => {
    const h = await hostile([mode], true);
    servers.push(h.server);
    const s = modbus(
      { transport: "rtuOverTcp", host: "127.0.0.1", port: h.port, timeoutMs: 200, retries: 0 },
      points,
    );
    await s.adapter.start();
    try {
      expect((await s.readAll()).r).toMatchObject({ quality: "bad", status });
      let good = await s.readAll();
      if (good.r?.quality !== "good") good = await s.readAll();
      expect(good.r).toMatchObject({ quality: "good", value: [10, 11, 12] });
    } finally {
      await s.adapter.stop();
    }
  });
});
