/**
 * The Modbus adapter's client seam: a few promise methods over modbus-serial (TCP, RTU on a serial
 * port, RTU over TCP) with every failure classified as an exception, a timeout, a malformed
 * response or a lost connection. Unit tests fake this interface; integration tests use real peers.
 */
import { Socket } from "node:net";
import type m from "modbus-serial";
import { lazyImport } from "../../src/sdk/index.js";
import type { ModbusSettings } from "./config.js";

/** modbus-serial, imported when the first Modbus device connects. */
const modbusSerial = lazyImport(() => import("modbus-serial"));
type Mb = InstanceType<typeof m.default>;

/** How a request failed. */
export type FailureKind = "exception" | "timeout" | "malformed" | "connection";

/** A failed request; `status` is what the points of the request read as. */
export class ModbusError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    /** The Modbus exception code, for `exception`. */
    readonly code?: number,
  ) {
    super(message);
    this.name = "ModbusError";
  }
}

/** The operations the adapter needs from a Modbus master. Unit ids are per call. */
export interface ModbusClient {
  /** Opens the connection; rejects when it cannot, or when `close()` is called meanwhile. */
  connect(): Promise<void>;
  /** Closes the connection; idempotent. */
  close(): Promise<void>;
  /** Whether the connection is open. */
  readonly isOpen: boolean;
  /** FC3 (holding) or FC4 (input): the registers' bytes as received, big-endian words. */
  readRegisters(
    unitId: number,
    table: "holding" | "input",
    address: number,
    count: number,
  ): Promise<Uint8Array>;
  /** FC1 (coil) or FC2 (discrete): exactly `count` bits. */
  readBits(unitId: number, table: "coil" | "discrete", address: number, count: number): Promise<boolean[]>;
  /** FC5 for one coil, FC15 for more; resolves once the device echoed the write. */
  writeCoils(unitId: number, address: number, values: readonly boolean[]): Promise<void>;
  /** FC6 for one register, FC16 for more; resolves once the device echoed the write. */
  writeRegisters(unitId: number, address: number, words: readonly number[]): Promise<void>;
  /**
   * FC22 (Mask Write Register): register = (register AND andMask) OR (orMask AND NOT andMask);
   * resolves once echoed, over TCP and RTU framings alike.
   */
  maskWriteRegister(unitId: number, address: number, andMask: number, orMask: number): Promise<void>;
  /** Drops half-received bytes after a timeout or a malformed frame, so the next response parses cleanly. */
  resync(): void;
  /**
   * Optional: holds the requests sent during this turn of the event loop and sends them in one
   * write (TCP), so that a poll's pipelined requests cost one system call instead of one each.
   */
  coalesce?(): void;
}

/** Classifies an error from modbus-serial. */
export function classify(error: unknown): ModbusError {
  if (error instanceof ModbusError) return error;
  const e = error as { message?: string; modbusCode?: number; errno?: string; name?: string; code?: string };
  const message = String(e?.message ?? error);
  if (typeof e?.modbusCode === "number") return new ModbusError("exception", message, e.modbusCode);
  if (e?.name === "TransactionTimedOutError" || e?.errno === "ETIMEDOUT")
    return new ModbusError("timeout", "Timeout");
  if (
    e?.name === "PortNotOpenError" ||
    /not open|ECONN|EPIPE|closed|ENOENT|EHOSTUNREACH|ENETUNREACH/i.test(
      `${message} ${e?.code ?? ""} ${e?.errno ?? ""}`,
    )
  )
    return new ModbusError("connection", message);
  return new ModbusError("malformed", message);
}

/** Calls a modbus-serial callback API as a promise. */
function call<T>(fn: (next: (err: unknown, res: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      fn((err, res) => (err ? reject(classify(err)) : resolve(res)));
    } catch (err) {
      reject(classify(err));
    }
  });
}

/** The modbus-serial client behind `ModbusClient`. */
export class SerialLibClient implements ModbusClient {
  #mb: Mb | undefined;
  #abort: (() => void) | undefined;
  #corked = false;
  readonly #settings: ModbusSettings;

  constructor(settings: ModbusSettings) {
    this.#settings = settings;
  }

  get isOpen(): boolean {
    return this.#mb?.isOpen === true;
  }

  async connect(): Promise<void> {
    const s = this.#settings;
    // A close() while the library loads finds nothing to close; the adapter closes what this opens.
    const ModbusRTU = (await modbusSerial.load()).default.default;
    const mb = new ModbusRTU();
    this.#mb = mb;
    // modbus-serial re-emits port errors; without a listener they would crash the process.
    mb.on("error", () => undefined);
    const timeout = s.timeoutMs ?? 1000;
    const opening = (() => {
      switch (s.transport ?? "tcp") {
        case "tcp":
          return mb.connectTCP(requireSetting(s.host, "host"), { port: s.port ?? 502, timeout });
        case "rtuOverTcp":
          // modbus-serial calls raw RTU frames over TCP "telnet" (its TcpRTUBuffered port speaks MBAP).
          return mb.connectTelnet(requireSetting(s.host, "host"), { port: s.port ?? 502, timeout } as never);
        case "rtu":
          return mb.connectRTUBuffered(requireSetting(s.serialPort, "serialPort"), {
            baudRate: s.baudRate ?? 9600,
            parity: s.parity ?? "none",
            dataBits: s.dataBits ?? 8,
            stopBits: s.stopBits ?? 1,
          } as never);
      }
    })();
    const aborted = new Promise<never>((_, reject) => {
      this.#abort = () => reject(new ModbusError("connection", "closed while connecting"));
    });
    try {
      await Promise.race([opening, aborted]);
    } catch (err) {
      opening.catch(() => undefined);
      await this.#destroy(mb);
      throw classify(err);
    } finally {
      this.#abort = undefined;
    }
    mb.setTimeout(timeout);
    if ((s.transport ?? "tcp") !== "tcp") frameMaskWrites(mb);
  }

  async close(): Promise<void> {
    this.#abort?.();
    const mb = this.#mb;
    this.#mb = undefined;
    if (mb) await this.#destroy(mb);
  }

  /** Releases the connection; a serial port is closed (releasing its lock) before this resolves, within 1 s. */
  async #destroy(mb: Mb): Promise<void> {
    const serial = this.#settings.transport === "rtu";
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1_000);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      try {
        if (serial && mb.isOpen) mb.close(done);
        else mb.destroy(done);
      } catch {
        done();
      }
      if (!serial) done();
    });
  }

  coalesce(): void {
    // modbus-serial's TCP ports keep their net.Socket as `_port._client`; anything else (a serial
    // port, another version's layout) is left alone.
    const socket = (this.#mb as unknown as { _port?: { _client?: unknown } } | undefined)?._port?._client;
    if (this.#corked || !(socket instanceof Socket) || socket.destroyed) return;
    this.#corked = true;
    socket.cork();
    // modbus-serial sends from promise callbacks; setImmediate runs after all of them.
    setImmediate(() => {
      this.#corked = false;
      socket.uncork();
    });
  }

  #client(): Mb {
    const mb = this.#mb;
    if (!mb?.isOpen) throw new ModbusError("connection", "connection is not open");
    return mb;
  }

  readRegisters(
    unitId: number,
    table: "holding" | "input",
    address: number,
    count: number,
  ): Promise<Uint8Array> {
    // The hot path of a poll: one promise per request, settled straight from modbus-serial's callback.
    let mb: Mb;
    try {
      mb = this.#client();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      const next = (err: unknown, res: { buffer?: Buffer } | undefined) => {
        if (err) reject(classify(err));
        else if (!res?.buffer || res.buffer.length !== count * 2)
          reject(
            new ModbusError("malformed", `expected ${count * 2} data bytes, got ${res?.buffer?.length ?? 0}`),
          );
        else resolve(res.buffer);
      };
      try {
        if (table === "holding") mb.writeFC3(unitId, address, count, next as never);
        else mb.writeFC4(unitId, address, count, next as never);
      } catch (err) {
        reject(classify(err));
      }
    });
  }

  async readBits(
    unitId: number,
    table: "coil" | "discrete",
    address: number,
    count: number,
  ): Promise<boolean[]> {
    const mb = this.#client();
    const res = await call<{ data: boolean[] }>((next) =>
      table === "coil"
        ? mb.writeFC1(unitId, address, count, next)
        : mb.writeFC2(unitId, address, count, next),
    );
    if (!Array.isArray(res?.data) || res.data.length < count || res.data.length > count + 7) {
      throw new ModbusError("malformed", `expected ${count} bits, got ${res?.data?.length ?? 0}`);
    }
    return res.data.slice(0, count);
  }

  async writeCoils(unitId: number, address: number, values: readonly boolean[]): Promise<void> {
    const mb = this.#client();
    if (values.length === 1) {
      const res = await call<{ address: number; state: boolean }>((next) =>
        mb.writeFC5(unitId, address, values[0]!, next),
      );
      confirm(res?.address === address && res.state === values[0], "FC5", res);
    } else {
      const res = await call<{ address: number; length: number }>((next) =>
        mb.writeFC15(unitId, address, [...values], next),
      );
      confirm(res?.address === address && res.length === values.length, "FC15", res);
    }
  }

  async maskWriteRegister(unitId: number, address: number, andMask: number, orMask: number): Promise<void> {
    const mb = this.#client();
    const res = await call<{ address: number; andMask: number; orMask: number }>((next) =>
      mb.writeFC22(unitId, address, andMask, orMask, next),
    );
    confirm(res?.address === address && res.andMask === andMask && res.orMask === orMask, "FC22", res);
  }

  async writeRegisters(unitId: number, address: number, words: readonly number[]): Promise<void> {
    const mb = this.#client();
    if (words.length === 1) {
      const res = await call<{ address: number; value: number }>((next) =>
        mb.writeFC6(unitId, address, words[0]!, next),
      );
      confirm(res?.address === address && res.value === words[0], "FC6", res);
    } else {
      const res = await call<{ address: number; length: number }>((next) =>
        mb.writeFC16(unitId, address, [...words], next),
      );
      confirm(res?.address === address && res.length === words.length, "FC16", res);
    }
  }

  resync(): void {
    // modbus-serial keeps a partial frame until it completes: after a lying MBAP length it would
    // wait for good. Its ports hold received bytes in `_clientRcvData` (TCP) or `_buffer` (RTU).
    const port = (this.#mb as unknown as { _port?: Record<string, unknown> } | undefined)?._port;
    if (!port) return;
    if (Buffer.isBuffer(port._clientRcvData)) port._clientRcvData = Buffer.alloc(0);
    if (Buffer.isBuffer(port._buffer)) port._buffer = Buffer.alloc(0);
  }
}

/** Length of an RTU reply to FC22: unit, function, address, AND mask, OR mask, CRC. */
const FC22_REPLY_BYTES = 10;

/**
 * modbus-serial's RTU ports (serial, and raw RTU over TCP) cut replies by the length they expect,
 * which they know only for FC 1–6, 15 and 16: a FC22 reply (or its exception) is never delivered
 * and the write, although applied, times out. After each request the port has sent, a FC22 one gets
 * its reply length here. Ports of another layout (no `_length` to set) are left alone.
 */
function frameMaskWrites(mb: Mb): void {
  const port = (mb as unknown as { _port?: { write?: unknown; _length?: unknown } })._port;
  if (!port || typeof port.write !== "function" || typeof port._length !== "number") return;
  const write = port.write as (data: Buffer) => void;
  port.write = (data: Buffer) => {
    write.call(port, data);
    if (data[1] === 22) port._length = FC22_REPLY_BYTES;
  };
}

function confirm(ok: boolean, fc: string, res: unknown): void {
  if (!ok)
    throw new ModbusError("malformed", `${fc} echo does not match the request: ${JSON.stringify(res)}`);
}

function requireSetting(value: string | undefined, name: string): string {
  if (!value) throw new ModbusError("connection", `connection.${name} is required for this transport`);
  return value;
}
