/** Shared bits of the MQTT integration tests: bounded waits, mosquitto_pub, adapter instances. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import mqtt from "mqtt";
import { createMqtt } from "../../adapters/mqtt/adapter.js";
import mqttAdapter from "../../adapters/mqtt/index.js";
import { createTestContext } from "../../src/sdk/testing.js";
import { until as waitUntil } from "../helpers/until.js";

const run = promisify(execFile);

/** Waits until `check` returns a truthy value; bounded by `timeoutMs`. */
export const until = <T>(check: () => T | undefined | false, what: string, timeoutMs = 5_000): Promise<T> =>
  waitUntil(what, check, timeoutMs);

/** Publishes with mosquitto_pub, a client nobody here wrote. */
export async function mosquittoPub(
  url: string,
  topic: string,
  message: string | Buffer,
  extra: string[] = [],
): Promise<void> {
  const u = new URL(url);
  const args = ["-h", u.hostname, "-p", u.port, "-t", topic, "-q", "1", ...extra];
  if (Buffer.isBuffer(message)) {
    const child = execFile("mosquitto_pub", [...args, "-s"]);
    child.stdin!.end(message);
    await new Promise((resolve, reject) =>
      child.once("exit", (code) =>
        code === 0 ? resolve(code) : reject(new Error(`mosquitto_pub exit ${code}`)),
      ),
    );
  } else await run("mosquitto_pub", [...args, "-m", message]);
}

/** An adapter instance with a recording test context; the clock is real time. */
export function instance(settings: Record<string, unknown>, points: unknown[]) {
  const tc = createTestContext(mqttAdapter, { settings, points, clock: { now: () => Date.now() } });
  const adapter = createMqtt(tc.ctx);
  const point = (id: string) => tc.ctx.points.find((p) => p.id === id)!;
  const last = (id: string) => tc.emitted.filter((s) => s.point === id).at(-1);
  return { ...tc, adapter, point, last };
}

/** A plain mqtt.js client that records what arrives on `filter`. */
export async function recorder(url: string, filter: string) {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  const got: { topic: string; payload: Buffer }[] = [];
  client.on("message", (topic, payload) => got.push({ topic, payload }));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, got, close: () => client.endAsync(true) };
}
