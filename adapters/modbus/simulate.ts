/**
 * A Modbus TCP simulator for the demo, tests and examples: modbus-serial's ServerTCP over a small
 * register bank whose values move with time. Holding registers: 0-1 a sine temperature (float32
 * ABCD, 20 ± 5 °C over 60 s), 2 a counter (uint16, +1 per read), 3 a writable setpoint (int16),
 * 10-13 the name "TAGBRIDG" (string, 8 chars). Input registers: 0-1 a pressure ramp (float32 CDAB).
 * Coils: 0 a running flag toggling every 10 s, 1 writable. Any unit id answers. It answers
 * ~800 requests/s: a functional peer, not a performance one.
 */
import m from "modbus-serial";
import { encodeRegisters } from "../../protocols/modbus/codec.js";

/** A running simulator. */
export interface ModbusSimulator {
  /** `modbus+tcp://127.0.0.1:<port>`. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Options of `startModbusSimulator`. */
export interface SimulatorOptions {
  /** TCP port; 0 or omitted picks a free one. */
  port?: number;
  host?: "127.0.0.1";
  /** Clock in epoch ms, for tests. */
  now?: () => number;
}

const NAME = encodeRegisters({ type: "string", byteOrder: "ABCD", length: 8 }, "TAGBRIDG");

/** Starts the simulator; resolves once it listens. */
export async function startModbusSimulator(options: SimulatorOptions = {}): Promise<ModbusSimulator> {
  const now = options.now ?? Date.now;
  const holding = new Array<number>(20).fill(0);
  const coils = [false, false];
  let counter = 0;
  holding[3] = 215;
  NAME.forEach((w, i) => {
    holding[10 + i] = w;
  });
  const temperature = () => 20 + 5 * Math.sin((2 * Math.PI * (now() % 60_000)) / 60_000);
  const pressure = () => 1 + ((now() % 30_000) / 30_000) * 4;
  const illegal = () => {
    throw { modbusErrorCode: 2, msg: "IllegalDataAddress" };
  };
  const vector = {
    getHoldingRegister(addr: number) {
      if (addr <= 1) return encodeRegisters({ type: "float32", byteOrder: "ABCD" }, temperature())[addr]!;
      if (addr === 2) {
        counter = (counter + 1) & 0xffff;
        return counter;
      }
      return holding[addr] ?? illegal();
    },
    getInputRegister(addr: number) {
      if (addr <= 1) return encodeRegisters({ type: "float32", byteOrder: "CDAB" }, pressure())[addr]!;
      return illegal();
    },
    getCoil(addr: number) {
      if (addr === 0) return Math.floor(now() / 10_000) % 2 === 0;
      return coils[addr] ?? illegal();
    },
    getDiscreteInput(addr: number) {
      return addr === 0 ? counter % 2 === 0 : illegal();
    },
    setRegister(addr: number, value: number) {
      if (addr < 3 || addr >= holding.length) illegal();
      holding[addr] = value;
    },
    setCoil(addr: number, value: boolean) {
      if (addr !== 1) illegal();
      coils[1] = value;
    },
  };
  const host = options.host ?? "127.0.0.1";
  const server = new m.ServerTCP(vector as never, { host, port: options.port ?? 0, unitID: 255 });
  server.on("socketError", () => undefined);
  server.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once("initialized", () => resolve());
    server.once("serverError", reject);
  });
  const inner = (server as unknown as { _server: { address(): { port: number } } })._server;
  const port = inner.address().port;
  return {
    url: `modbus+tcp://${host}:${port}`,
    port,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
