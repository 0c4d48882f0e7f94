/**
 * Pipelined reads on TCP (`maxInFlight` ≥ 2): a poll's block requests are handed to the socket in
 * one write (one system call), and every answer lands on its points.
 */
import { createServer, type Server, Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { modbus } from "./helpers.js";

/** An MBAP server answering FC3 with register i = its address; records the requests of each chunk. */
async function recordingServer(): Promise<{ server: Server; port: number; chunks: number[][] }> {
  const chunks: number[][] = [];
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => undefined);
    sock.on("data", (d) => {
      const addresses: number[] = [];
      const answers: Buffer[] = [];
      for (let at = 0; at + 12 <= d.length; at += 12) {
        const tid = d.readUInt16BE(at);
        const address = d.readUInt16BE(at + 8);
        const count = d.readUInt16BE(at + 10);
        addresses.push(address);
        const frame = Buffer.alloc(9 + count * 2);
        frame.writeUInt16BE(tid, 0);
        frame.writeUInt16BE(3 + count * 2, 4);
        frame[6] = d[at + 6]!;
        frame[7] = 3;
        frame[8] = count * 2;
        for (let i = 0; i < count; i++) frame.writeUInt16BE(address + i, 9 + i * 2);
        answers.push(frame);
      }
      chunks.push(addresses);
      sock.write(Buffer.concat(answers));
    });
  });
  server.on("close", () => {
    for (const s of sockets) s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as { port: number }).port, chunks };
}

/** Writes the client sockets handed to the OS, by remote port: `_write` (one chunk) or `_writev` (several). */
const writes = new Map<number, number>();
type Writer = (this: Socket, ...args: unknown[]) => unknown;
const proto = Socket.prototype as unknown as Record<"_write" | "_writev", Writer>;
const original = { _write: proto._write, _writev: proto._writev };

let servers: Server[] = [];
beforeEach(() => {
  for (const name of ["_write", "_writev"] as const) {
    proto[name] = function (this: Socket, ...args: unknown[]) {
      writes.set(this.remotePort ?? 0, (writes.get(this.remotePort ?? 0) ?? 0) + 1);
      return original[name].apply(this, args);
    };
  }
});
afterEach(async () => {
  Object.assign(proto, original);
  writes.clear();
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
  servers = [];
});

// Three blocks: gaps wider than maxGapRegisters keep them apart.
const points = [
  { id: "a", type: "uint16", address: "hr:0" },
  { id: "b", type: "uint16", address: "hr:200" },
  { id: "c", type: "uint16", address: "hr:400" },
];

describe("pipelined reads over Modbus TCP", () => {
  it("maxInFlight 3: a poll's three requests go out in one write and each answer reaches its point", async () => {
    const h = await recordingServer();
    servers.push(h.server);
    const s = modbus({ host: "127.0.0.1", port: h.port, maxInFlight: 3, maxGapRegisters: 10 }, points);
    await s.adapter.start();
    try {
      for (let poll = 0; poll < 3; poll++) {
        const got = await s.readAll();
        expect([got.a?.value, got.b?.value, got.c?.value]).toEqual([0, 200, 400]);
      }
      expect(writes.get(h.port)).toBe(3); // one per poll
      expect(h.chunks).toEqual([
        [0, 200, 400],
        [0, 200, 400],
        [0, 200, 400],
      ]);
    } finally {
      await s.adapter.stop();
    }
  });

  it("maxInFlight 1: one request at a time, each in its own write", async () => {
    const h = await recordingServer();
    servers.push(h.server);
    const s = modbus({ host: "127.0.0.1", port: h.port, maxGapRegisters: 10 }, points);
    await s.adapter.start();
    try {
      const got = await s.readAll();
      expect([got.a?.value, got.b?.value, got.c?.value]).toEqual([0, 200, 400]);
      expect(writes.get(h.port)).toBe(3); // one per request
      expect(h.chunks).toEqual([[0], [200], [400]]);
    } finally {
      await s.adapter.stop();
    }
  });
});
