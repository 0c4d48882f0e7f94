/**
 * A fast Modbus TCP server for benchmarks, run as its own process so its CPU is not counted as the
 * gateway's: a raw `net` server per port answering FC3 (read holding registers) from a register
 * bank, MBAP framing, every complete frame in a chunk answered (pipelining-safe), answers to one
 * chunk written in one go. Other function codes get exception 1 (IllegalFunction), reads outside
 * the bank exception 2 (IllegalDataAddress).
 *
 * Each port is one device with REGISTERS holding registers holding float32 values (ABCD) that
 * change on every request: value k = n + k / 256, n counting the port's requests (mod 65536), so a
 * gateway reporting by exception publishes every point of every poll.
 *
 * `node --import tsx bench/modbus-fast-server.ts <ports> [registers]` prints one JSON line
 * `{"ports":[...]}` once every port listens (127.0.0.1, ports picked by the OS). On stdin, a line
 * `cpu` is answered with `{"user":µs,"system":µs,"requests":n}`; stdin closing ends the process.
 */
import { createServer, type Server, type Socket } from "node:net";
import { createInterface } from "node:readline";

const PORTS = Number(process.argv[2] ?? 50);
const REGISTERS = Number(process.argv[3] ?? 200);
let requests = 0;

function device(): (socket: Socket) => void {
  const bank = Buffer.alloc(REGISTERS * 2);
  let n = 0;
  const refresh = () => {
    n = (n + 1) & 0xffff;
    for (let k = 0; k + 1 < REGISTERS; k += 2) bank.writeFloatBE(n + k / 256, k * 2);
  };
  return (socket) => {
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk: Buffer) => {
      let buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const out: Buffer[] = [];
      while (buf.length >= 7) {
        const length = buf.readUInt16BE(4); // unit id + PDU
        if (length < 2 || length > 254) {
          socket.destroy(); // not Modbus: drop the connection, as a device would
          return;
        }
        if (buf.length < 6 + length) break;
        const tid = buf.readUInt16BE(0);
        const unit = buf[6]!;
        const fc = buf[7]!;
        requests++;
        if (fc === 3 && length === 6) {
          const address = buf.readUInt16BE(8);
          const count = buf.readUInt16BE(10);
          if (count < 1 || count > 125 || address + count > REGISTERS) out.push(exception(tid, unit, fc, 2));
          else {
            refresh();
            const res = Buffer.allocUnsafe(9 + count * 2);
            res.writeUInt16BE(tid, 0);
            res.writeUInt16BE(0, 2);
            res.writeUInt16BE(3 + count * 2, 4);
            res[6] = unit;
            res[7] = 3;
            res[8] = count * 2;
            bank.copy(res, 9, address * 2, (address + count) * 2);
            out.push(res);
          }
        } else out.push(exception(tid, unit, fc, fc === 3 ? 3 : 1));
        buf = buf.subarray(6 + length);
      }
      pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
      if (out.length === 1) socket.write(out[0]!);
      else if (out.length > 1) socket.write(Buffer.concat(out));
    });
  };
}

function exception(tid: number, unit: number, fc: number, code: number): Buffer {
  const res = Buffer.allocUnsafe(9);
  res.writeUInt16BE(tid, 0);
  res.writeUInt16BE(0, 2);
  res.writeUInt16BE(3, 4);
  res[6] = unit;
  res[7] = (fc | 0x80) & 0xff;
  res[8] = code;
  return res;
}

const servers: Server[] = [];
const ports: number[] = [];
for (let i = 0; i < PORTS; i++) {
  const server = createServer(device());
  servers.push(server);
  ports.push(
    await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
    }),
  );
}
process.stdout.write(`${JSON.stringify({ ports })}\n`);

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line.trim() === "cpu") process.stdout.write(`${JSON.stringify({ ...process.cpuUsage(), requests })}\n`);
});
lines.on("close", () => process.exit(0));
