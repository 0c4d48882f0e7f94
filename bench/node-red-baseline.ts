/**
 * Node-RED baseline for the Modbus fleet benchmark (issue #3): the same workload run by Node-RED with
 * node-red-contrib-modbus, measured on this machine instead of quoting a figure taken elsewhere.
 *
 * Node-RED is not a dependency of the repo. Install it outside, e.g.
 *     mkdir -p /tmp/node-red-bench && cd /tmp/node-red-bench && npm init -y \
 *       && npm install node-red@4.1.15 node-red-contrib-modbus@5.23.3
 * (Node-RED 5 and node-red-contrib-modbus 5.60 need Node 22; 5.45 pulls a dependency from outside the npm
 * registry; 5.23.3 is the newest that installs from npm alone and runs on Node 20.)
 *
 * `startNodeRed` writes a flows.json and a settings.js into a temp userDir and runs
 * `node <dir>/node_modules/node-red/red.js` headless (no editor, no HTTP server) as a child process.
 * The flow, per device (one port of bench/modbus-fast-server.ts):
 *   - one `modbus-client` config node (TCP, unit id 1, the contrib node's default command queue with
 *     the smallest command delay it allows, 1 ms);
 *   - one `modbus-read` node per block (FC3, `rate` = intervalMs in ms, no start delay), its topic
 *     `nodered/bench/dev<d>/<address>`;
 * and, shared by all: one `function` node decoding the response buffer as float32 ABCD into an array of
 * numbers (bare values: no quality, no timestamps), one `mqtt out` node (QoS 0, topic from msg.topic)
 * and its `mqtt-broker` config node. An in-process MQTT subscriber of ours counts what Node-RED publishes.
 *
 * bench/modbus-fleet.bench.ts runs it as case (d) when BENCH_NODE_RED names the install directory,
 * with the contrib node's command queue on (its default) and off (bufferCommands false); the queue
 * does not slow the reads at 100 ms but costs CPU.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface, type Interface } from "node:readline";
import mqtt from "mqtt";

/** A running Node-RED with the benchmark flow. */
export interface NodeRedBaseline {
  pid: number;
  /** CPU time of the Node-RED process (all its threads) so far, in ms, from utime/stime of /proc/<pid>/stat. */
  cpuMs(): { user: number; system: number };
  /** MQTT messages Node-RED published so far, as received by our subscriber. */
  messages(): number;
  /** Float32 values in those messages (each message of a block carries count / 2 values). */
  values(): number;
  /** Messages that were not an array of count / 2 numbers (counted in `messages` too). */
  invalid(): number;
  /** Resident memory of the Node-RED process now, in MiB (VmRSS of /proc/<pid>/status). */
  rssMb(): number;
  stop(): Promise<void>;
  /** Node-RED's version. */
  version: string;
  /** node-red-contrib-modbus's version. */
  modbusVersion: string;
}

export interface NodeRedOptions {
  /** The directory Node-RED and node-red-contrib-modbus were installed in (has node_modules/node-red). */
  dir: string;
  /** One Modbus TCP device (unit id 1 on 127.0.0.1) per port. */
  ports: number[];
  /** Poll interval of every read node. */
  intervalMs: number;
  /** mqtt://host:port of the broker to publish to. */
  mqttUrl: string;
  /** Holding-register blocks read from every device, each by its own read node. */
  blocks: { address: number; count: number }[];
  /** The contrib client's command queue (`bufferCommands`); its default, true, unless set. */
  queue?: boolean;
  /** How long to wait for Node-RED to start and every read node to publish; 30 s unless set. */
  startTimeoutMs?: number;
}

const TOPIC = "nodered/bench";
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Clock ticks per second of /proc/<pid>/stat times. */
function clockTicks(): number {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** utime and stime of a process, in ms. */
function procCpuMs(pid: number, ticks: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: (Number(f[11]) * 1000) / ticks, system: (Number(f[12]) * 1000) / ticks };
}

function procRssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}

/** Decodes the register bytes of a Modbus-Read response (modbus-serial's `{ data, buffer }`) as float32 ABCD. */
const DECODE = `const b = msg.responseBuffer && msg.responseBuffer.buffer;
if (!b) return null;
const n = b.length >> 2;
const values = new Array(n);
for (let i = 0; i < n; i++) values[i] = b.readFloatBE(i * 4);
return { topic: msg.topic, payload: values };`;

/** The flow: see the header comment. */
export function buildFlow(opts: NodeRedOptions): Record<string, unknown>[] {
  const url = new URL(opts.mqttUrl);
  const tab = "id-tab";
  const fn = "id-float32";
  const out = "id-mqtt-out";
  const broker = "id-broker";
  const nodes: Record<string, unknown>[] = [
    { id: tab, type: "tab", label: "modbus fleet baseline", disabled: false, info: "" },
    {
      id: broker,
      type: "mqtt-broker",
      name: "bench broker",
      broker: url.hostname,
      port: url.port || "1883",
      clientid: "",
      autoConnect: true,
      usetls: false,
      protocolVersion: 4,
      keepalive: 60,
      cleansession: true,
      autoUnsubscribe: true,
      birthTopic: "",
      closeTopic: "",
      willTopic: "",
      userProps: "",
      sessionExpiry: "",
    },
    {
      id: fn,
      type: "function",
      z: tab,
      name: "float32 ABCD",
      func: DECODE,
      outputs: 1,
      timeout: 0,
      noerr: 0,
      initialize: "",
      finalize: "",
      libs: [],
      x: 400,
      y: 40,
      wires: [[out]],
    },
    {
      id: out,
      type: "mqtt out",
      z: tab,
      name: "",
      topic: "",
      qos: "0",
      retain: "false",
      respTopic: "",
      contentType: "",
      userProps: "",
      correl: "",
      expiry: "",
      broker,
      x: 600,
      y: 40,
      wires: [],
    },
  ];
  opts.ports.forEach((port, d) => {
    const client = `id-client-${d}`;
    nodes.push({
      id: client,
      type: "modbus-client",
      name: `dev${d}`,
      clienttype: "tcp",
      bufferCommands: opts.queue ?? true,
      stateLogEnabled: false,
      queueLogEnabled: false,
      failureLogEnabled: false,
      tcpHost: "127.0.0.1",
      tcpPort: String(port),
      tcpType: "DEFAULT",
      serialPort: "/dev/ttyUSB",
      serialType: "RTU-BUFFERD",
      serialBaudrate: "9600",
      serialDatabits: "8",
      serialStopbits: "1",
      serialParity: "none",
      serialConnectionDelay: "100",
      serialAsciiResponseStartDelimiter: "0x3A",
      unit_id: "1",
      // The client parses this with `parseInt(x) || 1`: 1 ms is the least delay between queued commands.
      commandDelay: "1",
      clientTimeout: "1000",
      reconnectOnTimeout: true,
      reconnectTimeout: "2000",
      // Must be present, or the client ignores bufferCommands and queues anyway.
      parallelUnitIdsAllowed: true,
    });
    opts.blocks.forEach((b, i) => {
      nodes.push({
        id: `id-read-${d}-${i}`,
        type: "modbus-read",
        z: tab,
        name: `dev${d} hr${b.address}+${b.count}`,
        topic: `${TOPIC}/dev${d}/${b.address}`,
        showStatusActivities: false,
        logIOActivities: false,
        showErrors: false,
        unitid: "1",
        dataType: "HoldingRegister",
        adr: String(b.address),
        quantity: String(b.count),
        rate: String(opts.intervalMs),
        rateUnit: "ms",
        delayOnStart: false,
        startDelayTime: "",
        server: client,
        useIOFile: false,
        ioFile: "",
        useIOForPayload: false,
        emptyMsgOnFail: false,
        x: 150,
        y: 80 + (d * opts.blocks.length + i) * 40,
        wires: [[fn], []],
      });
    });
  });
  return nodes;
}

/** Headless, quiet, nothing to prompt for; info level only for the "Started flows" line. */
const SETTINGS = `module.exports = {
  flowFile: "flows.json",
  flowFilePretty: false,
  credentialSecret: false,
  httpAdminRoot: false,
  httpNodeRoot: false,
  disableEditor: true,
  uiHost: "127.0.0.1",
  logging: { console: { level: "info", metrics: false, audit: false } },
  telemetry: { enabled: false, updateNotification: false },
  diagnostics: { enabled: false, ui: false },
  runtimeState: { enabled: false, ui: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
  functionExternalModules: false,
  exportGlobalContextKeys: false,
  editorTheme: { projects: { enabled: false } },
};
`;

function packageVersion(dir: string, name: string): string {
  return (
    JSON.parse(readFileSync(join(dir, "node_modules", name, "package.json"), "utf8")) as { version: string }
  ).version;
}

export async function startNodeRed(opts: NodeRedOptions): Promise<NodeRedBaseline> {
  const dir = resolve(opts.dir);
  const version = packageVersion(dir, "node-red");
  const modbusVersion = packageVersion(dir, "node-red-contrib-modbus");
  const ticks = clockTicks();
  const perTopic = new Map<string, number>(); // topic -> values per message
  opts.ports.forEach((_, d) => {
    for (const b of opts.blocks) perTopic.set(`${TOPIC}/dev${d}/${b.address}`, b.count >> 1);
  });

  // Our subscriber first, so no message is missed.
  const sub = await mqtt.connectAsync(opts.mqttUrl, {
    reconnectPeriod: 0,
    clientId: `nr-baseline-${process.pid}`,
  });
  let messages = 0;
  let values = 0;
  const seen = new Set<string>();
  let invalid = 0;
  let bad: string | undefined;
  sub.on("message", (topic, payload) => {
    const n = perTopic.get(topic);
    if (n === undefined) return;
    messages++;
    values += n;
    seen.add(topic);
    // Every message must be n numbers: this also catches responses matched to the wrong request.
    let ok = false;
    try {
      const v = JSON.parse(payload.toString()) as unknown;
      ok = Array.isArray(v) && v.length === n && v.every((x) => typeof x === "number");
    } catch {}
    if (!ok) {
      invalid++;
      bad ??= `${topic}: ${payload.toString().slice(0, 120)}`;
    }
  });
  await sub.subscribeAsync(`${TOPIC}/#`, { qos: 0 });

  const userDir = mkdtempSync(join(tmpdir(), "tb-nodered-"));
  writeFileSync(join(userDir, "flows.json"), JSON.stringify(buildFlow(opts)));
  writeFileSync(join(userDir, "settings.js"), SETTINGS);
  // Plain node: without the tsx hooks this process may have been started with.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(dir, "node_modules/node-red/red.js"),
      "--userDir",
      userDir,
      "--settings",
      join(userDir, "settings.js"),
    ],
    { cwd: userDir, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  const log: string[] = [];
  let started = false;
  const readers: Interface[] = [child.stdout!, child.stderr!].map((s) => createInterface({ input: s }));
  for (const r of readers)
    r.on("line", (line) => {
      log.push(line);
      if (log.length > 200) log.shift();
      if (line.includes("Started flows")) started = true;
    });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM"); // Node-RED stops its flows (closes the Modbus and MQTT clients) and exits
      await Promise.race([exited, sleep(5_000)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await Promise.race([exited, sleep(2_000)]);
      }
    }
    for (const r of readers) r.close();
    await sub.endAsync(true).catch(() => undefined);
    rmSync(userDir, { recursive: true, force: true });
  };

  const fail = async (why: string): Promise<never> => {
    const tail = log.slice(-30).join("\n");
    await stop();
    throw new Error(`Node-RED baseline: ${why}\n--- Node-RED log (last lines) ---\n${tail}`);
  };
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  while (!started) {
    if (child.exitCode !== null || child.signalCode !== null) await fail("Node-RED exited while starting");
    // Node-RED waits forever for node types it could not load (node-red-contrib-modbus not found).
    if (log.some((l) => l.includes("Waiting for missing types")))
      await sleep(500).then(() => fail("missing node types"));
    if (Date.now() > deadline) await fail("no 'Started flows' in time");
    await sleep(50);
  }
  while (seen.size < perTopic.size) {
    if (bad) await fail(`unexpected payload ${bad}`);
    if (child.exitCode !== null || child.signalCode !== null) await fail("Node-RED exited");
    if (Date.now() > deadline)
      await fail(`only ${seen.size} of ${perTopic.size} read nodes published in time`);
    await sleep(50);
  }
  if (bad) await fail(`unexpected payload ${bad}`);

  const pid = child.pid!;
  return {
    pid,
    cpuMs: () => procCpuMs(pid, ticks),
    messages: () => messages,
    values: () => values,
    invalid: () => invalid,
    rssMb: () => procRssMb(pid),
    stop,
    version,
    modbusVersion,
  };
}
