/**
 * An mqtt.js connection for the MQTT and Sparkplug sinks, from the shared option fields. Unlike the
 * adapter's client, it never fails to start: mqtt.js retries from the first attempt, and the sink
 * buffers meanwhile. QoS 0 messages are never queued by mqtt.js while offline (the sink buffers).
 */
import { readFile } from "node:fs/promises";
import type { IClientOptions, MqttClient } from "mqtt";
import type { Logger } from "pino";
import { lazyImport } from "../sdk/lazy.js";
import type { MqttFields } from "./config.js";

/** mqtt.js options of a sink; reads the TLS files. */
export async function mqttOptions(
  c: MqttFields,
  defaultClientId: string,
  will: IClientOptions["will"],
  log: Logger,
): Promise<IClientOptions> {
  const o: IClientOptions = {
    protocolVersion: c.protocolVersion === "5" ? 5 : 4,
    clientId: c.clientId ?? defaultClientId,
    clean: true,
    keepalive: c.keepaliveSec ?? 30,
    connectTimeout: c.connectTimeoutMs ?? 10_000,
    reconnectPeriod: c.reconnectPeriodMs ?? 2_000,
    queueQoSZero: false,
    resubscribe: true,
  };
  if (will) o.will = will;
  if (c.username !== undefined) o.username = c.username;
  if (c.password !== undefined) o.password = c.password;
  const secure = /^(mqtts|wss):/.test(c.url);
  if (secure || c.tls) {
    const t = c.tls ?? {};
    o.rejectUnauthorized = (t.serverVerification ?? "verify") === "verify";
    if (!o.rejectUnauthorized)
      log.warn(
        "TLS server verification is off (serverVerification: insecure): the broker is not authenticated",
      );
    if (t.caFile) o.ca = await readFile(t.caFile);
    if (t.certFile) o.cert = await readFile(t.certFile);
    if (t.keyFile) o.key = await readFile(t.keyFile);
  }
  return o;
}

/** mqtt.js, imported when the first MQTT or Sparkplug sink starts. */
const mqttJs = lazyImport(() => import("mqtt"));

/**
 * Connects in the background (resolving once mqtt.js is loaded, not once connected); `onUp`/`onDown`
 * follow mqtt.js's connect and close events.
 */
export async function connectMqtt(
  url: string,
  options: IClientOptions,
  log: Logger,
  events: { onUp(): void; onDown(reason: string): void },
): Promise<MqttClient> {
  const { default: mqtt } = await mqttJs.load();
  const client = mqtt.connect(url, options);
  let lastError = "";
  client.on("connect", () => events.onUp());
  client.on("close", () => events.onDown(lastError || `connection to ${url} closed`));
  client.on("error", (error) => {
    if (error.message !== lastError) log.warn({ err: error.message, url }, "north MQTT connection error");
    lastError = error.message;
  });
  return client;
}

/** Fills {name} fields of a topic or subject template; `clean` maps each value to a safe level. */
export function fillTemplate(
  template: string,
  values: Readonly<Record<string, string>>,
  clean: (s: string) => string,
): string {
  return template.replace(/\{(\w+)\}/g, (m, name: string) => {
    const v = values[name];
    return v === undefined ? m : clean(v);
  });
}

/** MQTT topic levels: '/', '+' and '#' become '_'. */
export const mqttLevel = (s: string) => s.replace(/[/+#]/g, "_");
