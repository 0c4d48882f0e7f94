/**
 * Test peer: Debian's pymodbus (run by /usr/bin/python3) serving Modbus TCP on a free loopback port
 * or RTU on one end of a socat pty pair, with given register contents. Order, per CONVENTIONS: a
 * URL from `MODBUS_URL` (then contents cannot be set; callers that need them skip); the local
 * pymodbus; no container branch (there is no Modbus image we pin, and no Docker engine here); an
 * in-process fallback, modbus-serial's ServerTCP (`startInProcessModbus`). Each stops what it started.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import m from "modbus-serial";
import { freePort, stopChild } from "./process.js";

/** Registers and bits of one unit id. */
export interface UnitContents {
  hr?: number[];
  ir?: number[];
  co?: boolean[];
  di?: boolean[];
}

/** A running peer. */
export interface ModbusPeer {
  /** `modbus+tcp://127.0.0.1:port` or `modbus+rtu:///path/to/pty`. */
  url: string;
  host: string;
  port: number;
  /** For RTU: the pty the client opens. */
  serialPort?: string;
  /** What serves it. */
  kind: "env" | "pymodbus" | "in-process";
  stop(): Promise<void>;
}

const PYTHON = "/usr/bin/python3";
const SCRIPT = join(import.meta.dirname, "pymodbus_server.py");

/** Whether Debian's pymodbus can run here; the reason when not. */
export function pymodbusMissing(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  try {
    execFileSync(PYTHON, ["-c", "import pymodbus.server"], { stdio: "ignore", timeout: 10_000 });
    return undefined;
  } catch {
    return "python3-pymodbus is not installed for /usr/bin/python3 (apt-get install python3-pymodbus)";
  }
}

/** Whether socat exists, for RTU pty pairs. */
export function socatMissing(): string | undefined {
  try {
    execFileSync("socat", ["-V"], { stdio: "ignore", timeout: 5_000 });
    return undefined;
  } catch {
    return "socat is not installed";
  }
}

/** Waits (bounded) for a line on the child's stdout; rejects with its stderr when it exits first. */
function waitFor(child: ChildProcess, marker: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => done(new Error(`no ${marker} within ${ms} ms: ${err}`)), ms);
    const done = (e?: Error) => {
      clearTimeout(timer);
      child.stdout?.removeAllListeners("data");
      if (e) reject(e);
      else resolve();
    };
    child.stdout?.on("data", (d: Buffer) => {
      out += d;
      if (out.includes(marker)) done();
    });
    child.stderr?.on("data", (d: Buffer) => {
      err += d;
    });
    child.once("exit", (code) => done(new Error(`exited with ${code} before ${marker}: ${err}`)));
  });
}

function startPython(config: unknown): ChildProcess {
  return spawn(PYTHON, [SCRIPT, JSON.stringify(config)], { stdio: ["ignore", "pipe", "pipe"] });
}

/** One pymodbus process over a fixed config, that can be killed by PID and started again. */
class PythonServer {
  #child: ChildProcess | undefined;

  constructor(readonly config: unknown) {}

  get pid(): number {
    return this.#child?.pid ?? -1;
  }

  async start(): Promise<void> {
    const child = startPython(this.config);
    try {
      await waitFor(child, "READY", 15_000);
    } catch (err) {
      await stopChild(child, 2_000);
      throw err;
    }
    this.#child = child;
  }

  /** SIGKILL by PID, as a crash would end it; resolves once it has exited. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(child.pid, "SIGKILL");
    await Promise.race([exited, sleep(5_000)]);
  }

  stop(): Promise<void> {
    return stopChild(this.#child, 2_000);
  }
}

/** A pymodbus peer this helper started: it can be killed by PID and started again, same place, same contents. */
export interface PymodbusPeer extends ModbusPeer {
  kind: "pymodbus";
  /** PID of the pymodbus process now running (or last run). */
  readonly pid: number;
  /** SIGKILL to the pymodbus process by its PID; resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts pymodbus again with the same config (same TCP port or same pty); resolves once it serves. */
  restart(): Promise<void>;
}

/**
 * Starts pymodbus over TCP serving `units` (unit id → contents), or uses `MODBUS_URL`
 * (`tcp://host:port`) when set and `allowEnv` is true.
 */
export async function startPymodbusTcp(
  units: Record<number, UnitContents>,
  allowEnv = false,
): Promise<ModbusPeer> {
  const env = process.env.MODBUS_URL;
  if (allowEnv && env) {
    const u = new URL(env);
    return { url: env, host: u.hostname, port: Number(u.port || 502), kind: "env", stop: async () => {} };
  }
  return startPymodbusTcpOn(units);
}

/**
 * Starts pymodbus over TCP on a free port, never from the environment: for tests that kill the
 * server and start it again on the same port.
 */
export async function startPymodbusTcpOn(units: Record<number, UnitContents>): Promise<PymodbusPeer> {
  const port = await freePort();
  const py = new PythonServer({ tcp: port, units });
  await py.start();
  return {
    url: `modbus+tcp://127.0.0.1:${port}`,
    host: "127.0.0.1",
    port,
    kind: "pymodbus",
    get pid() {
      return py.pid;
    },
    kill: () => py.kill(),
    restart: () => py.start(),
    stop: () => py.stop(),
  };
}

/** Starts a socat pty pair and pymodbus RTU on one end; the client opens `serialPort`. */
export async function startPymodbusRtu(
  units: Record<number, UnitContents>,
  baud = 19200,
): Promise<PymodbusPeer> {
  const dir = mkdtempSync(join(tmpdir(), "tb-rtu-"));
  const server = join(dir, "server");
  const client = join(dir, "client");
  const socat = spawn(
    "socat",
    ["-d", "-d", `pty,raw,echo=0,link=${server}`, `pty,raw,echo=0,link=${client}`],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  const cleanup = async (py?: PythonServer) => {
    await py?.stop();
    await stopChild(socat, 2_000);
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100 && !(existsSync(server) && existsSync(client)); i++) await sleep(20);
  if (!existsSync(client)) {
    await cleanup();
    throw new Error("socat did not create the pty pair");
  }
  const py = new PythonServer({ serial: server, baud, units });
  try {
    await py.start();
  } catch (err) {
    await cleanup();
    throw err;
  }
  return {
    url: `modbus+rtu://${client}`,
    host: "",
    port: 0,
    serialPort: client,
    kind: "pymodbus",
    get pid() {
      return py.pid;
    },
    kill: () => py.kill(),
    restart: () => py.start(),
    stop: () => cleanup(py),
  };
}

/** The in-process fallback: modbus-serial's ServerTCP over `units`' contents (unknown units unanswered). */
export async function startInProcessModbus(
  units: Record<number, UnitContents>,
  port?: number,
): Promise<ModbusPeer & { units: Record<number, UnitContents> }> {
  port ??= await freePort();
  const pick = <T>(unit: number, table: keyof UnitContents, addr: number): T => {
    const values = units[unit]?.[table] as T[] | undefined;
    if (!values || addr >= values.length) throw { modbusErrorCode: 2, msg: "IllegalDataAddress" };
    return values[addr]!;
  };
  const vector = {
    getHoldingRegister: (a: number, u: number) => pick<number>(u, "hr", a),
    getInputRegister: (a: number, u: number) => pick<number>(u, "ir", a),
    getCoil: (a: number, u: number) => pick<boolean>(u, "co", a),
    getDiscreteInput: (a: number, u: number) => pick<boolean>(u, "di", a),
    setRegister: (a: number, v: number, u: number) => {
      pick<number>(u, "hr", a);
      units[u]!.hr![a] = v;
    },
    setCoil: (a: number, v: boolean, u: number) => {
      pick<boolean>(u, "co", a);
      units[u]!.co![a] = v;
    },
  };
  const server = new m.ServerTCP(vector as never, { host: "127.0.0.1", port, unitID: 255 });
  server.on("error", () => undefined);
  await new Promise<void>((resolve) => server.on("initialized", () => resolve()));
  return {
    url: `modbus+tcp://127.0.0.1:${port}`,
    host: "127.0.0.1",
    port,
    kind: "in-process",
    units,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
