/**
 * The OPC UA server of bench/opcua.bench.ts, run as a child process so its CPU is not in the
 * gateway's figures: `node --import tsx bench/opcua-server.ts <count> <pkiDir> <minimumSamplingMs>`.
 * Serves `count` UInt32 counters at `ns=1;s=c<i>` on 127.0.0.1 (security None offered next to the
 * secure endpoints) and sets every one of them to the tick number once per second, so a lost change
 * shows as a gap in a point's sequence. Talks to its parent over IPC:
 *   → { type: "ready", endpointUrl }      once listening
 *   ← { type: "pause" }  → { type: "paused", tick, ticks, lateTicks, loopMsMax, loopMsAvg, cpuMs }
 *   ← { type: "resume" } (ticks go on from the last value)
 *   ← { type: "stop" }   shuts down and exits
 */
import { join } from "node:path";
import {
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  StatusCodes,
  type UAVariable,
  Variant,
} from "node-opcua";

const [count = "20000", pkiDir = "/tmp/tagbridge-opcua-bench", minSampling = "0"] = process.argv.slice(2);
const N = Number(count);
const send = (msg: unknown) => process.send?.(msg);

const serverCertificateManager = new OPCUACertificateManager({
  rootFolder: join(pkiDir, "server"),
  automaticallyAcceptUnknownCertificate: true,
});
const server = new OPCUAServer({
  port: 0,
  host: "127.0.0.1",
  hostname: "127.0.0.1",
  serverCertificateManager,
  allowAnonymous: true,
  securityModes: [MessageSecurityMode.None, MessageSecurityMode.SignAndEncrypt],
  securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256],
  buildInfo: { productName: "tagbridge-opcua-bench", buildNumber: "1" },
});
await server.initialize();
const ns = server.engine.addressSpace!.getOwnNamespace();
const folder = ns.addFolder(server.engine.addressSpace!.rootFolder.objects, { browseName: "Bench" });
const vars: UAVariable[] = [];
for (let i = 0; i < N; i++) {
  const v = ns.addVariable({
    componentOf: folder,
    browseName: `c${i}`,
    nodeId: `s=c${i}`,
    dataType: "UInt32",
    minimumSamplingInterval: Number(minSampling),
  });
  v.setValueFromSource(new Variant({ dataType: DataType.UInt32, value: 0 }), StatusCodes.Good, new Date());
  vars.push(v);
}
await server.start();
const port = server.endpoints[0]?.port as number;

let tick = 0;
let ticks = 0;
let late = 0;
let loopMsSum = 0;
let loopMsMax = 0;
let timer: NodeJS.Timeout | undefined;
let cpu0 = process.cpuUsage();
let due = 0;

/** One tick: every counter takes the next value, all with one source timestamp. */
function update(): void {
  const t0 = performance.now();
  if (t0 - due > 250) late++;
  tick++;
  const now = new Date();
  for (const v of vars)
    v.setValueFromSource(new Variant({ dataType: DataType.UInt32, value: tick }), StatusCodes.Good, now);
  const ms = performance.now() - t0;
  ticks++;
  loopMsSum += ms;
  loopMsMax = Math.max(loopMsMax, ms);
  due += 1000;
  timer = setTimeout(update, Math.max(0, due - performance.now()));
}

function resume(): void {
  if (timer) return;
  ticks = late = loopMsSum = loopMsMax = 0;
  cpu0 = process.cpuUsage();
  due = performance.now() + 1000;
  timer = setTimeout(update, 1000);
}

process.on("message", async (msg: { type: string }) => {
  if (msg.type === "pause") {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const cpu = process.cpuUsage(cpu0);
    send({
      type: "paused",
      tick,
      ticks,
      lateTicks: late,
      loopMsMax: Math.round(loopMsMax),
      loopMsAvg: ticks ? Math.round(loopMsSum / ticks) : 0,
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    });
  } else if (msg.type === "resume") resume();
  else if (msg.type === "stop") {
    if (timer) clearTimeout(timer);
    await server.shutdown(0);
    await serverCertificateManager.dispose();
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0)); // the parent went away: do not linger

resume();
send({ type: "ready", endpointUrl: `opc.tcp://127.0.0.1:${port}` });
