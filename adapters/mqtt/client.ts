/**
 * The MQTT adapter's client seam: a few promise methods and two callbacks over mqtt.js. Unit tests
 * fake this interface; everything else runs against real brokers. mqtt.js keeps reconnecting after
 * the first successful connect; its connect/close events come out as `onState`, and there is no
 * second retry loop here. A failed first connect rejects, and the core retries `start()` with backoff.
 */
import { readFile } from "node:fs/promises";
import type { IClientOptions, MqttClient as MqttJsClient } from "mqtt";
import { lazyImport } from "../../src/sdk/index.js";

/** One received message. */
export interface MqttMessage {
  topic: string;
  payload: Buffer;
}

/** What the adapter needs from an MQTT connection. */
export interface MqttClient {
  /** Connects; resolves on the first CONNACK, rejects on an error, a close or `end()` before it. */
  connect(): Promise<void>;
  /** Subscribes to filters; rejects when the broker refuses one. */
  subscribe(filters: readonly string[], qos: 0 | 1 | 2): Promise<void>;
  /** Publishes; resolves when QoS 0 is written, or when the broker acknowledged QoS 1/2. */
  publish(topic: string, payload: string | Uint8Array, qos: 0 | 1 | 2): Promise<void>;
  /** Closes at once, dropping in-flight messages; idempotent. */
  end(): Promise<void>;
  /** Called for every message. */
  onMessage(handler: (message: MqttMessage) => void): void;
  /** Called when mqtt.js reconnects or loses the connection after the first connect. */
  onState(handler: (state: "connected" | "disconnected", reason?: string) => void): void;
}

/** Connection options of the client, as the adapter derives them from settings. */
export interface MqttClientOptions {
  url: string;
  protocolVersion: 4 | 5;
  clientId: string;
  username?: string | undefined;
  password?: string | undefined;
  clean: boolean;
  sessionExpirySec?: number | undefined;
  keepaliveSec: number;
  connectTimeoutMs: number;
  reconnectPeriodMs: number;
  tls?: { caFile?: string; certFile?: string; keyFile?: string; rejectUnauthorized: boolean } | undefined;
}

/** mqtt.js, imported when the first MQTT device connects. */
const mqttJs = lazyImport(() => import("mqtt"));

/** Opens a client over mqtt.js; nothing happens until `connect()`. */
export function openMqttClient(options: MqttClientOptions): MqttClient {
  let client: MqttJsClient | undefined;
  let ended = false;
  let onMessage: (m: MqttMessage) => void = () => undefined;
  let onState: (s: "connected" | "disconnected", reason?: string) => void = () => undefined;
  let abortConnect: ((error: Error) => void) | undefined;

  const requireClient = (): MqttJsClient => {
    if (!client || ended) throw new Error("MQTT client is not connected");
    return client;
  };

  return {
    async connect() {
      const opts: IClientOptions = {
        protocolVersion: options.protocolVersion,
        clientId: options.clientId,
        clean: options.clean,
        keepalive: options.keepaliveSec,
        connectTimeout: options.connectTimeoutMs,
        reconnectPeriod: options.reconnectPeriodMs,
        resubscribe: true,
      };
      if (options.username !== undefined) opts.username = options.username;
      if (options.password !== undefined) opts.password = options.password;
      if (options.protocolVersion === 5 && !options.clean && options.sessionExpirySec !== undefined)
        opts.properties = { sessionExpiryInterval: options.sessionExpirySec };
      if (options.tls) {
        const t = options.tls;
        opts.rejectUnauthorized = t.rejectUnauthorized;
        if (t.caFile) opts.ca = await readFile(t.caFile);
        if (t.certFile) opts.cert = await readFile(t.certFile);
        if (t.keyFile) opts.key = await readFile(t.keyFile);
      }
      const { default: mqtt } = await mqttJs.load();
      if (ended) throw new Error("MQTT client ended while connecting");
      const c = mqtt.connect(options.url, opts);
      client = c;
      c.on("message", (topic, payload) => onMessage({ topic, payload }));
      await new Promise<void>((resolve, reject) => {
        const fail = (error: Error) => {
          cleanup();
          c.end(true);
          reject(error);
        };
        const onError = (error: Error) => fail(error);
        const onClose = () => fail(new Error(`connection to ${options.url} closed before CONNACK`));
        const onConnect = () => {
          cleanup();
          resolve();
        };
        const cleanup = () => {
          abortConnect = undefined;
          c.off("error", onError).off("close", onClose).off("connect", onConnect);
        };
        abortConnect = fail;
        c.on("error", onError).on("close", onClose).on("connect", onConnect);
      });
      let up = true;
      c.on("connect", () => {
        if (!up) onState("connected");
        up = true;
      });
      c.on("close", () => {
        if (up && !ended) onState("disconnected", `connection to ${options.url} lost`);
        up = false;
      });
      c.on("error", () => undefined); // surfaced as close; an unhandled 'error' would crash the process
    },

    async subscribe(filters, qos) {
      if (filters.length === 0) return;
      const granted = await requireClient().subscribeAsync([...filters], { qos });
      const refused = granted.filter((g) => g.qos >= 128);
      if (refused.length > 0)
        throw new Error(`broker refused subscription to ${refused.map((g) => g.topic).join(", ")}`);
    },

    async publish(topic, payload, qos) {
      await requireClient().publishAsync(topic, Buffer.from(payload), { qos });
    },

    async end() {
      if (ended) return;
      ended = true;
      abortConnect?.(new Error("MQTT client ended while connecting"));
      await client?.endAsync(true);
    },

    onMessage(handler) {
      onMessage = handler;
    },
    onState(handler) {
      onState = handler;
    },
  };
}
