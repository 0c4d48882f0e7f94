/**
 * NDEATH as the broker's will: a Sparkplug edge node in a child process (tsx) is SIGKILLed, so it
 * sends nothing; Mosquitto publishes the will from its CONNECT, which must be an NDEATH whose
 * bdSeq equals the last NBIRTH's (decoded with Eclipse Tahu's sparkplug-payload). A restart on the
 * same data directory births with the next bdSeq.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import mqtt, { type MqttClient } from "mqtt";
import sparkplug from "sparkplug-payload";
import type { UPayload } from "sparkplug-payload/lib/sparkplugbpayload.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Broker, startBroker } from "../peers/mqtt-broker.js";
import { until } from "./helpers.js";

const tahu = sparkplug.get("spBv1.0")!;
let broker: Broker;
let dataDir: string;
let host: MqttClient | undefined;
const children: ChildProcess[] = [];

beforeAll(async () => {
  broker = await startBroker();
  dataDir = mkdtempSync(join(tmpdir(), "tb-north-spb-kill-"));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await host?.endAsync(true);
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function edgeNode(): { child: ChildProcess; connected: () => boolean } {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "child-sparkplug.ts")],
    {
      env: { ...process.env, BROKER_URL: broker.url, DATA_DIR: dataDir },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  children.push(child);
  let connected = false;
  createInterface({ input: child.stdout! }).on("line", (l) => {
    if (l.startsWith("{")) connected = (JSON.parse(l) as { connected: boolean }).connected;
  });
  return { child, connected: () => connected };
}

const bdSeqOf = (p: UPayload) => Number(String(p.metrics?.find((m) => m.name === "bdSeq")?.value));

it("kill -9: the broker delivers the will, an NDEATH with the bdSeq of the last NBIRTH", async () => {
  const msgs: { type: string; payload: UPayload; at: number }[] = [];
  host = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  host.on("message", (topic, payload) => {
    msgs.push({ type: topic.split("/")[2]!, payload: tahu.decodePayload(payload), at: Date.now() });
  });
  await host.subscribeAsync("spBv1.0/G/+/N/#", { qos: 1 });
  const of = (type: string) => msgs.filter((m) => m.type === type);

  const a = edgeNode();
  expect(await until(() => a.connected() && of("DDATA").length >= 3, 15_000)).toBe(true);
  const nbirth = of("NBIRTH").at(-1)!;
  expect(of("NDEATH")).toEqual([]);
  const killedAt = Date.now();
  a.child.kill("SIGKILL");
  await new Promise((r) => a.child.once("exit", r));
  // Mosquitto notices the closed socket at once and publishes the will.
  expect(await until(() => of("NDEATH").length === 1, 10_000)).toBe(true);
  const ndeath = of("NDEATH")[0]!;
  expect(ndeath.at).toBeGreaterThanOrEqual(killedAt);
  expect(ndeath.payload.metrics).toHaveLength(1);
  expect(ndeath.payload.metrics![0]).toMatchObject({ name: "bdSeq", type: "Int64" });
  expect(bdSeqOf(ndeath.payload)).toBe(bdSeqOf(nbirth.payload));

  // Restarted on the same data directory: a new session births with the next bdSeq.
  const b = edgeNode();
  expect(await until(() => b.connected() && of("NBIRTH").length === 2, 15_000)).toBe(true);
  expect(bdSeqOf(of("NBIRTH")[1]!.payload)).toBe((bdSeqOf(nbirth.payload) + 1) % 256);
  b.child.kill("SIGKILL");
  await new Promise((r) => b.child.once("exit", r));
  expect(await until(() => of("NDEATH").length === 2, 10_000)).toBe(true);
  expect(bdSeqOf(of("NDEATH")[1]!.payload)).toBe(bdSeqOf(of("NBIRTH")[1]!.payload));
}, 60_000);
