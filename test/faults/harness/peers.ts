/**
 * The peers a fault case kills and starts again: each runs as a child process (or, for OPC UA,
 * in process) on a port (or pty) chosen once per case, so a restarted peer comes back where the
 * gateway expects it. `kill()` ends the peer by its PID (or halts the in-process server); `start()`
 * brings it back on the same port. `env()` names the placeholders gateway.yaml may use.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import mqtt, { type MqttClient } from "mqtt";
import sparkplug from "sparkplug-payload";
import { MOSQUITTO } from "../../peers/mqtt-broker.js";
import { type OpcuaPeer, type ServedVariable, startOpcuaPeer } from "../../peers/opcua-server.js";
import { freePort, stopChild, waitForPort } from "../../peers/process.js";
import type { UnitContents } from "../../peers/pymodbus.js";

/** A peer the schedule controls. */
export interface FaultPeer {
  /** Placeholders for gateway.yaml (`${env:NAME}`). */
  env(): Record<string, string>;
  /** Starts the peer (again) on its port. */
  start(): Promise<void>;
  /** Kills the peer by its PID (SIGKILL unless the peer says otherwise). */
  kill(): Promise<void>;
  /** Ends everything for good. */
  close(): Promise<void>;
  /** What the peer's process said and did lately, for failure messages. */
  describe?(): string;
}

/** What schedule.yaml says of its peer. */
export type PeerSpec =
  | { kind: "none" }
  | { kind: "pymodbus-tcp"; units: Record<string, UnitContents> }
  | { kind: "pymodbus-rtu"; units: Record<string, UnitContents>; baud?: number }
  | { kind: "opcua"; variables: ServedVariable[] }
  | { kind: "opcua-process"; variables: ServedVariable[] }
  | { kind: "mosquitto-json"; retained: { topic: string; payload: unknown }[] }
  | {
      kind: "mosquitto-sparkplug";
      groupId: string;
      edgeNodeId: string;
      deviceId: string;
      metrics: SpMetric[];
      /** DDATA of the first metric (by alias, value unchanged) this often, as edge nodes that report periodically do. */
      dataEveryMs?: number;
    };

/** A Sparkplug metric the simulated edge node births with. */
export interface SpMetric {
  name: string;
  alias: number;
  type: "Int32" | "Double" | "Boolean" | "String" | "Float" | "UInt32";
  value: number | boolean | string;
}

const PYTHON = "/usr/bin/python3";
const PYMODBUS_SCRIPT = join(import.meta.dirname, "..", "..", "peers", "pymodbus_server.py");
const REUSE = join(import.meta.dirname, "pymodbus_reuse.py");

/** Waits (bounded) for `marker` on the child's stdout. */
function ready(child: ChildProcess, marker: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => finish(new Error(`no ${marker} within ${ms} ms: ${err}`)), ms);
    const onExit = (code: number | null) => finish(new Error(`exited (${code}) before ${marker}: ${err}`));
    const finish = (e?: Error) => {
      clearTimeout(timer);
      child.off("exit", onExit);
      child.stdout?.removeAllListeners("data");
      if (e) reject(e);
      else resolve();
    };
    child.stdout?.on("data", (d: Buffer) => {
      out += d;
      if (out.includes(marker)) finish();
    });
    child.stderr?.on("data", (d: Buffer) => {
      err += d;
    });
    child.once("exit", onExit);
  });
}

/** Sends `signal` to the child by PID and waits (bounded) for it to exit. */
async function killPid(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(child.pid, signal);
  await Promise.race([exited, sleep(3_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

/** pymodbus over TCP on a fixed port, or over RTU on the server end of a socat pty pair that outlives it. */
async function pymodbusPeer(spec: Extract<PeerSpec, { kind: "pymodbus-tcp" | "pymodbus-rtu" }>) {
  let child: ChildProcess | undefined;
  let socat: ChildProcess | undefined;
  let env: Record<string, string>;
  let config: Record<string, unknown>;
  let dir: string | undefined;
  let stderr = "";
  if (spec.kind === "pymodbus-tcp") {
    const port = await freePort();
    env = { FAULT_PEER_HOST: "127.0.0.1", FAULT_PEER_PORT: String(port) };
    config = { tcp: port, units: spec.units };
  } else {
    dir = mkdtempSync(join(tmpdir(), "tb-faults-rtu-"));
    const server = join(dir, "server");
    const client = join(dir, "client");
    socat = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${server}`, `pty,raw,echo=0,link=${client}`], {
      stdio: "ignore",
    });
    for (let i = 0; i < 200 && !(existsSync(server) && existsSync(client)); i++) await sleep(20);
    if (!existsSync(client)) throw new Error("socat did not create the pty pair");
    env = { FAULT_PEER_SERIAL: client, FAULT_PEER_BAUD: String(spec.baud ?? 19200) };
    config = { serial: server, baud: spec.baud ?? 19200, units: spec.units };
  }
  const peer: FaultPeer = {
    env: () => env,
    async start() {
      const c = spawn(PYTHON, [REUSE, PYMODBUS_SCRIPT, JSON.stringify(config)], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = c;
      stderr = "";
      c.stderr?.on("data", (d: Buffer) => {
        stderr = (stderr + d).slice(-2_000);
      });
      await ready(c, "READY", 15_000);
    },
    describe: () =>
      `pymodbus pid ${child?.pid} exit ${child?.exitCode ?? child?.signalCode ?? "running"}; stderr: ${stderr.slice(-600)}`,
    kill: () => killPid(child, "SIGKILL"),
    async close() {
      await killPid(child, "SIGKILL");
      await stopChild(socat, 2_000);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return peer;
}

/** Mosquitto on a fixed port with persistence, so retained messages survive a SIGTERM (it saves on exit). */
export async function mosquitto(persistent: boolean) {
  if (!MOSQUITTO) throw new Error("mosquitto is not installed");
  const dir = mkdtempSync(join(tmpdir(), "tb-faults-mosq-"));
  const port = await freePort();
  const lines = [`user ${userInfo().username}`, `listener ${port} 127.0.0.1`, "allow_anonymous true"];
  if (persistent) lines.push("persistence true", `persistence_location ${dir}/`);
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(conf, `${lines.join("\n")}\n`);
  let child: ChildProcess | undefined;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async start() {
      child = spawn(MOSQUITTO!, ["-c", conf], { stdio: "ignore" });
      await waitForPort(port, "mosquitto", 5_000);
    },
    /** SIGTERM by PID: the broker drops every client and writes its retained messages to disk. */
    kill: () => killPid(child, "SIGTERM"),
    async close() {
      await killPid(child, "SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The ingest broker of an MQTT JSON device, with retained messages published once at the first start. */
async function jsonBrokerPeer(spec: Extract<PeerSpec, { kind: "mosquitto-json" }>): Promise<FaultPeer> {
  const broker = await mosquitto(true);
  let published = false;
  return {
    env: () => ({ FAULT_PEER_URL: broker.url }),
    async start() {
      await broker.start();
      if (published) return; // later starts rely on the broker's persisted retained messages
      const c = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
      for (const m of spec.retained) {
        const payload = typeof m.payload === "string" ? m.payload : JSON.stringify(m.payload);
        await c.publishAsync(m.topic, payload, { qos: 1, retain: true });
      }
      await c.endAsync();
      published = true;
    },
    kill: broker.kill,
    close: broker.close,
  };
}

/**
 * The ingest broker of a Sparkplug B device, and an edge node written with Eclipse Tahu's
 * sparkplug-payload (not our codec): it reconnects on its own, and births (NBIRTH with a new bdSeq,
 * then DBIRTH) on every connect and on an NCMD Node Control/Rebirth.
 */
async function sparkplugPeer(spec: Extract<PeerSpec, { kind: "mosquitto-sparkplug" }>): Promise<FaultPeer> {
  const broker = await mosquitto(false);
  const sp = sparkplug.get("spBv1.0")!;
  const ns = `spBv1.0/${spec.groupId}`;
  let node: MqttClient | undefined;
  let bdSeq = 0;
  let seq = 0;
  const encode = (metrics: unknown[]) =>
    Buffer.from(sp.encodePayload({ timestamp: Date.now(), seq: seq++ % 256, metrics } as never));
  const births = async (c: MqttClient) => {
    seq = 0;
    await c.publishAsync(
      `${ns}/NBIRTH/${spec.edgeNodeId}`,
      encode([
        { name: "bdSeq", type: "Int64", value: bdSeq },
        { name: "Node Control/Rebirth", type: "Boolean", value: false },
      ]),
      { qos: 0 },
    );
    await c.publishAsync(
      `${ns}/DBIRTH/${spec.edgeNodeId}/${spec.deviceId}`,
      encode(spec.metrics.map((m) => ({ ...m, timestamp: Date.now() }))),
      { qos: 0 },
    );
  };
  const connectNode = () => {
    bdSeq++;
    const death = sp.encodePayload({
      timestamp: Date.now(),
      metrics: [{ name: "bdSeq", type: "Int64", value: bdSeq }],
    } as never);
    const c = mqtt.connect(broker.url, {
      reconnectPeriod: 100,
      clientId: `faults-edge-${spec.edgeNodeId}`,
      will: { topic: `${ns}/NDEATH/${spec.edgeNodeId}`, payload: Buffer.from(death), qos: 1, retain: false },
    });
    c.on("error", () => undefined);
    c.on("connect", () => {
      void c
        .subscribeAsync(`${ns}/NCMD/${spec.edgeNodeId}`, { qos: 1 })
        .then(() => births(c))
        .catch(() => undefined);
    });
    if (spec.dataEveryMs) {
      const first = spec.metrics[0]!;
      const timer = setInterval(() => {
        if (!c.connected) return;
        const metric = { alias: first.alias, type: first.type, value: first.value, timestamp: Date.now() };
        const topic = `${ns}/DDATA/${spec.edgeNodeId}/${spec.deviceId}`;
        void c.publishAsync(topic, encode([metric]), { qos: 0 }).catch(() => undefined);
      }, spec.dataEveryMs);
      c.once("end", () => clearInterval(timer));
    }
    c.on("message", (_topic, payload) => {
      const decoded = sp.decodePayload(payload);
      const rebirth = decoded.metrics?.some((m) => m.name === "Node Control/Rebirth" && m.value === true);
      if (rebirth) void births(c).catch(() => undefined);
    });
    return c;
  };
  return {
    env: () => ({ FAULT_PEER_URL: broker.url }),
    async start() {
      await broker.start();
      node ??= connectNode();
    },
    kill: broker.kill,
    async close() {
      await node?.endAsync(true);
      await broker.close();
    },
  };
}

/** The in-process node-opcua server (test/peers/opcua-server.ts): `kill` halts it, `start` restarts it on its port. */
async function opcuaPeer(spec: Extract<PeerSpec, { kind: "opcua" }>): Promise<FaultPeer> {
  let peer: OpcuaPeer | undefined;
  let halted = false;
  let url = "";
  return {
    env: () => ({ FAULT_PEER_URL: url }),
    async start() {
      if (!peer) {
        peer = await startOpcuaPeer(spec.variables);
        url = peer.endpointUrl;
      } else if (halted) await peer.restart();
      halted = false;
    },
    async kill() {
      await peer?.halt();
      halted = true;
    },
    async close() {
      await peer?.stop();
    },
  };
}

/**
 * node-opcua's server in a child process on a fixed port with a PKI folder kept across restarts
 * (same certificate), killed by PID with SIGKILL.
 */
async function opcuaProcessPeer(spec: Extract<PeerSpec, { kind: "opcua-process" }>): Promise<FaultPeer> {
  const pkiDir = mkdtempSync(join(tmpdir(), "tb-faults-opcua-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let stderr = "";
  const script = join(import.meta.dirname, "opcua-child.ts");
  return {
    env: () => ({ FAULT_PEER_URL: `opc.tcp://127.0.0.1:${port}` }),
    async start() {
      const arg = JSON.stringify({ port, pkiDir, variables: spec.variables });
      const c = spawn(process.execPath, ["--import", "tsx", script, arg], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      child = c;
      stderr = "";
      c.stderr?.on("data", (d: Buffer) => {
        stderr = (stderr + d).slice(-2_000);
      });
      await ready(c, "READY", 30_000);
    },
    kill: () => killPid(child, "SIGKILL"),
    describe: () =>
      `opcua pid ${child?.pid} exit ${child?.exitCode ?? child?.signalCode ?? "running"}; stderr: ${stderr.slice(-600)}`,
    async close() {
      await killPid(child, "SIGKILL");
      rmSync(pkiDir, { recursive: true, force: true });
    },
  };
}

/** Makes (but does not start) the peer of a case. */
export async function makePeer(spec: PeerSpec): Promise<FaultPeer> {
  switch (spec.kind) {
    case "none":
      return { env: () => ({}), start: async () => {}, kill: async () => {}, close: async () => {} };
    case "pymodbus-tcp":
    case "pymodbus-rtu":
      return pymodbusPeer(spec);
    case "opcua":
      return opcuaPeer(spec);
    case "opcua-process":
      return opcuaProcessPeer(spec);
    case "mosquitto-json":
      return jsonBrokerPeer(spec);
    case "mosquitto-sparkplug":
      return sparkplugPeer(spec);
  }
}
