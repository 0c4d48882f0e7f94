/**
 * Modbus hot path. (1) Decoding a 125-register block into 62 float32 samples (CDAB) through the
 * adapter's compiled decoders. (2) Reads/s of 100 holding registers (50 float32 points) against
 * pymodbus: the adapter's read() versus a bare modbus-serial loop, one request in flight, same run.
 * Run: npx tsx bench/modbus.bench.ts [--write]
 */
import { cpus } from "node:os";
import m from "modbus-serial";
import type { ModbusInstance } from "../adapters/modbus/adapter.js";
import modbusAdapter from "../adapters/modbus/index.js";
import { makeDecoder } from "../protocols/modbus/codec.js";
import { createTestContext } from "../src/sdk/testing.js";
import { pymodbusMissing, startPymodbusTcp } from "../test/peers/pymodbus.js";
import { writeResults } from "./results.js";

const ROUNDS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function decodeRound(): number {
  const decoders = Array.from({ length: 62 }, () => makeDecoder({ type: "float32", byteOrder: "CDAB" }));
  const block = new Uint8Array(250).map((_, i) => (i * 37) & 0xff);
  const n = 20_000;
  const t0 = performance.now();
  let sink = 0;
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < 62; i++) sink += decoders[i]!(block, i * 4) as number;
  }
  const s = (performance.now() - t0) / 1000;
  if (sink === 42) console.log("");
  return (n * 62) / s;
}

async function readsPerSecond(fn: () => Promise<unknown>, ms = 1500): Promise<number> {
  const end = performance.now() + ms;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() < end) {
    await fn();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

const rows: Record<string, unknown>[] = [];
const decode = Array.from({ length: ROUNDS }, decodeRound);
rows.push({
  case: "decode 125-register block, float32 CDAB",
  metric: "samples/s",
  median: Math.round(median(decode)),
});
console.log(rows.at(-1));

const missing = pymodbusMissing();
if (missing) console.log(`end-to-end part skipped: ${missing}`);
else {
  const peer = await startPymodbusTcp({ 1: { hr: new Array(200).fill(0x4142) } });
  try {
    const points = Array.from({ length: 50 }, (_, i) => ({
      id: `p${i}`,
      type: "float32",
      address: `hr:${i * 2}`,
    }));
    const tc = createTestContext(modbusAdapter, { settings: { host: peer.host, port: peer.port }, points });
    const adapter = modbusAdapter.create(tc.ctx) as ModbusInstance;
    await adapter.start();
    const bare = new m.default();
    await bare.connectTCP(peer.host, { port: peer.port });
    bare.setID(1);
    bare.setTimeout(1000);
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      b.push(await readsPerSecond(() => bare.readHoldingRegisters(0, 100)));
      a.push(await readsPerSecond(() => adapter.read(tc.ctx.points)));
    }
    bare.close(() => undefined);
    await adapter.stop();
    rows.push({
      case: "bare modbus-serial, 100 registers vs pymodbus",
      metric: "reads/s",
      median: Math.round(median(b)),
    });
    rows.push({
      case: "adapter read(), 50 float32 points vs pymodbus",
      metric: "reads/s",
      median: Math.round(median(a)),
    });
    rows.push({ case: "adapter / bare", metric: "ratio", median: (median(a) / median(b)).toFixed(2) });
    rows.push({ case: "adapter readings/s", metric: "samples/s", median: Math.round(median(a) * 50) });
    for (const row of rows.slice(1)) console.log(row);
  } finally {
    await peer.stop();
  }
}

if (process.argv.includes("--write")) {
  await writeResults(
    "modbus",
    `${cpus()[0]?.model ?? "unknown"} ×${cpus().length}, Node ${process.version}`,
    rows,
    ROUNDS,
  );
}
