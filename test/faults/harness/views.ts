/**
 * The four views of one device a fault case checks: REST (latest readings and the device's state,
 * asked afresh each time), and the last reading per point seen by a WebSocket client, an SSE client
 * and an MQTT subscriber of the gateway's north sink.
 */
import { get, type IncomingMessage } from "node:http";
import mqtt, { type MqttClient } from "mqtt";
import WebSocket from "ws";
import type { Reading } from "../../../src/schema/reading.js";

/** The last reading per point, as one view sees it. */
export type Latest = Map<string, Reading>;

/** A device as REST shows it. */
export interface DeviceView {
  state: string;
  stateReason?: string;
  counters: { reconnects: number };
}

/** A snapshot of every view at one moment. */
export interface Snapshot {
  device: DeviceView;
  views: Record<ViewName, Latest>;
}

export type ViewName = "rest" | "ws" | "sse" | "mqtt";
export const VIEW_NAMES: readonly ViewName[] = ["rest", "ws", "sse", "mqtt"];

/** Keeps the reading with the highest seq per point (the north sink may replay older ones after a reconnect). */
function keep(latest: Latest, r: Reading): void {
  const was = latest.get(r.point);
  if (!was || was.seq < r.seq) latest.set(r.point, r);
}

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * Subscribes to the north sink's topic of the gateway's device; open it before the gateway starts,
 * so the first readings (which, unchanged, are never published again) are not missed.
 */
export async function openNorth(url: string, topic: string, device: string) {
  const latest: Latest = new Map();
  const client: MqttClient = await mqtt.connectAsync(url, { reconnectPeriod: 200 });
  client.on("message", (_topic, payload) => {
    const msg = JSON.parse(payload.toString()) as Reading | Reading[];
    for (const r of Array.isArray(msg) ? msg : [msg]) if (r.device === device) keep(latest, r);
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return { latest, close: () => client.endAsync(true) };
}

/** Opens the streaming views of `device` on the service at `baseUrl`, beside the north subscriber. */
export async function openViews(
  baseUrl: string,
  device: string,
  north: Awaited<ReturnType<typeof openNorth>>,
): Promise<{ snapshot(): Promise<Snapshot>; errors: string[]; close(): Promise<void> }> {
  const errors: string[] = [];
  const api = `${baseUrl}/api/v1`;
  const q = `device=${encodeURIComponent(device)}`;

  const ws: Latest = new Map();
  const socket = new WebSocket(`${api.replace(/^http/, "ws")}/stream?${q}`);
  socket.on("message", (data) => {
    const msg = JSON.parse(String(data)) as unknown;
    if (Array.isArray(msg)) for (const r of msg as Reading[]) keep(ws, r);
    else errors.push(`ws notice ${JSON.stringify(msg)}`);
  });
  socket.on("error", (e) => errors.push(`ws error ${e.message}`));
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });

  const sse: Latest = new Map();
  const sseRes = await new Promise<IncomingMessage>((resolve, reject) => {
    get(`${api}/events?${q}`, resolve).on("error", reject);
  });
  if (sseRes.statusCode !== 200) throw new Error(`SSE answered ${sseRes.statusCode}`);
  let buffer = "";
  sseRes.setEncoding("utf8");
  sseRes.on("data", (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = frame.split("\n");
      const event = lines.find((l) => l.startsWith("event: "))?.slice(7);
      const data = lines.find((l) => l.startsWith("data: "))?.slice(6);
      if (event === "reading" && data) keep(sse, JSON.parse(data) as Reading);
      else if (event) errors.push(`sse ${event} ${data}`);
    }
  });

  return {
    errors,
    async snapshot() {
      const [device_, rest] = await Promise.all([
        json<DeviceView>(`${api}/devices/${encodeURIComponent(device)}`),
        json<Reading[]>(`${api}/readings/latest?${q}`),
      ]);
      const restLatest: Latest = new Map();
      for (const r of rest) keep(restLatest, r);
      return {
        device: device_,
        views: { rest: restLatest, ws: new Map(ws), sse: new Map(sse), mqtt: new Map(north.latest) },
      };
    },
    async close() {
      socket.terminate();
      sseRes.destroy();
      await north.close();
    },
  };
}
