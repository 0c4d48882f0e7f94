import { get, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { loopbackViewer, reading, type TestGateway, testGateway } from "../../test/helpers/gateway-view.js";
import { until } from "../../test/helpers/until.js";
import type { Reading } from "../schema/reading.js";
import { buildApp } from "./app.js";
import type { StreamOptions } from "./stream-common.js";

let gateway: TestGateway;
let app: FastifyInstance;
let base: string;
let registry: Registry;
const cleanups: (() => void)[] = [];

async function start(stream?: Partial<StreamOptions>): Promise<void> {
  registry = new Registry();
  app = await buildApp({
    gateway,
    logger: pino({ level: "silent" }),
    auth: loopbackViewer(),
    metrics: registry,
    docs: false,
    stream,
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  base = `127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

beforeEach(() => {
  gateway = testGateway();
  gateway.bus.publish([reading("press-1", "temp", 1), reading("oven-2", "temp", 2)]);
});
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await app.close();
});

const ids = (rs: Reading[]) => rs.map((r) => `${r.device}/${r.point}=${r.value}`);

/** A WebSocket client collecting every message it gets. */
async function wsClient(query: string): Promise<{ ws: WebSocket; messages: Reading[][] }> {
  const ws = new WebSocket(`ws://${base}/api/v1/stream${query}`);
  cleanups.push(() => ws.terminate());
  const messages: Reading[][] = [];
  ws.on("message", (data) => messages.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  return { ws, messages };
}

/** An SSE client collecting parsed frames: `{event, data}` or `{comment}`. */
async function sseClient(query: string): Promise<{ res: IncomingMessage; frames: Record<string, string>[] }> {
  const frames: Record<string, string>[] = [];
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = get(`http://${base}/api/v1/events${query}`, resolve).once("error", reject);
    cleanups.push(() => req.destroy());
  });
  let buffer = "";
  res.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    for (let i = buffer.indexOf("\n\n"); i >= 0; i = buffer.indexOf("\n\n")) {
      const frame: Record<string, string> = {};
      for (const line of buffer.slice(0, i).split("\n")) {
        if (line.startsWith(":")) frame.comment = line.slice(1).trim();
        else frame[line.slice(0, line.indexOf(":"))] = line.slice(line.indexOf(":") + 1).trim();
      }
      frames.push(frame);
      buffer = buffer.slice(i + 2);
    }
  });
  return { res, frames };
}

describe("WebSocket stream", () => {
  beforeEach(() => start());

  it("sends the latest values first, then live readings matching the filter", async () => {
    const { messages } = await wsClient("?device=press-1");
    await until("snapshot", () => messages.length === 1);
    expect(ids(messages[0] ?? [])).toEqual(["press-1/temp=1"]);
    gateway.bus.publish([reading("oven-2", "temp", 3), reading("press-1", "pressure", 4)]);
    gateway.bus.publish([reading("press-1", "temp", 5)]);
    await until("live readings", () => messages.flat().length === 3);
    expect(ids(messages.slice(1).flat())).toEqual(["press-1/pressure=4", "press-1/temp=5"]);
  });

  it("filters by point across devices and sends an empty snapshot when nothing matches yet", async () => {
    const { messages } = await wsClient("?point=pressure");
    await until("snapshot", () => messages.length === 1);
    expect(messages[0]).toEqual([]);
    gateway.bus.publish([reading("press-1", "temp", 6), reading("press-1", "pressure", 7)]);
    await until("live reading", () => messages.length === 2);
    expect(ids(messages[1] ?? [])).toEqual(["press-1/pressure=7"]);
  });

  it("closes the client's bus consumer when the client goes", async () => {
    const { ws, messages } = await wsClient("");
    await until("snapshot", () => messages.length === 1);
    expect(gateway.bus.consumers().map((c) => c.name)).toEqual([
      expect.stringMatching(/^ws:127\.0\.0\.1:\d+$/),
    ]);
    ws.close();
    await until("consumer closed", () => gateway.bus.consumers().length === 0);
  });

  it("rejects a junk filter with 400 before upgrading", async () => {
    const ws = new WebSocket(`ws://${base}/api/v1/stream?device=../x`);
    const error = await new Promise<Error>((resolve) => ws.once("error", resolve));
    expect(error.message).toContain("400");
    expect(gateway.bus.consumers()).toEqual([]);
  });
});

describe("WebSocket slow client", () => {
  it("drops batches for a client that does not read, counts them, and keeps the connection", async () => {
    await start({ maxBufferedBytes: 256 * 1024, keepaliveMs: 60_000 });
    const { ws, messages } = await wsClient("?device=press-1");
    await until("snapshot", () => messages.length === 1);
    ws.pause();
    const big = "x".repeat(64 * 1024);
    const droppedSoFar = async () => {
      const metric = await registry.getSingleMetric("tagbridge_http_stream_dropped_readings_total")?.get();
      return metric?.values.find((v) => v.labels.transport === "ws")?.value ?? 0;
    };
    // Publish until the kernel's socket buffers are full and batches start being dropped.
    let published = 0;
    while ((await droppedSoFar()) === 0 && published < 2_000) {
      gateway.bus.publish([reading("press-1", "temp", big)]);
      published++;
      await new Promise((r) => setImmediate(r));
    }
    const dropped = await droppedSoFar();
    expect(dropped).toBeGreaterThan(0);
    // The same loss is on the device's own counter (droppedReadings), not only the transport's.
    expect(gateway.bus.drops.total("press-1")).toBe(dropped);
    // The server side never holds much more than the bound plus one batch for this client.
    const [serverSide] = app.websocketServer.clients;
    expect(serverSide?.bufferedAmount).toBeLessThan(256 * 1024 + 2 * big.length);
    ws.resume();
    await until("the rest", () => messages.flat().length - 1 === published - dropped, 10_000);
    gateway.bus.publish([reading("press-1", "temp", 42)]);
    await until("a live reading after the drop", () => messages.at(-1)?.[0]?.value === 42);
  });
});

describe("slow and fast clients", () => {
  it("a stalled client neither slows a fast one nor loses track: it is told how many readings it missed", async () => {
    await start({ maxBufferedBytes: 64 * 1024, capacity: 100, keepaliveMs: 60_000 });
    const slow = await wsClient("?device=press-1&snapshot=false");
    const fast = await wsClient("?device=press-1&snapshot=false");
    slow.ws.pause();
    const big = "y".repeat(8 * 1024);
    const total = 600;
    for (let i = 0; i < total; i++) {
      gateway.bus.publish([reading("press-1", "temp", `${i}:${big}`)]);
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    const values = (m: unknown[][]) =>
      m
        .flat()
        .filter(
          (r) => Array.isArray(r) === false && typeof r === "object" && r !== null && "value" in r,
        ) as Reading[];
    await until("the fast client got everything", () => values(fast.messages).length === total, 10_000);
    expect(values(fast.messages).map((r) => Number(String(r.value).split(":")[0]))).toEqual([
      ...Array(total).keys(),
    ]);
    expect(fast.messages.some((m) => !Array.isArray(m))).toBe(false); // no drop notice for the fast one
    slow.ws.resume();
    // Once the server's side of its socket drained, the next reading reaches it.
    await until(
      "the server's buffers drained",
      () =>
        [...app.websocketServer.clients].every((c) => c.bufferedAmount === 0) &&
        gateway.bus.consumers().every((c) => c.queued === 0),
      10_000,
    );
    gateway.bus.publish([reading("press-1", "temp", "last")]);
    await until("the slow client's last reading", () => values(slow.messages).at(-1)?.value === "last");
    const notices = slow.messages.filter((m) => !Array.isArray(m)) as unknown as { dropped: number }[];
    const missed = notices.reduce((n, x) => n + x.dropped, 0);
    expect(missed).toBeGreaterThan(0);
    expect(values(slow.messages).length + missed).toBe(total + 1);
  });
});

describe("SSE stream", () => {
  it("sends `event: reading` frames, latest first, then live readings matching the filter", async () => {
    await start();
    const { res, frames } = await sseClient("?point=temp&device=oven-2,press-1");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    await until("snapshot", () => frames.length === 2);
    gateway.bus.publish([reading("press-1", "pressure", 3), reading("oven-2", "temp", 4)]);
    await until("live reading", () => frames.length === 3);
    expect(frames.every((f) => f.event === "reading")).toBe(true);
    const readings = frames.map((f) => JSON.parse(f.data ?? "") as Reading);
    expect(ids(readings).sort()).toEqual(["oven-2/temp=2", "oven-2/temp=4", "press-1/temp=1"]);
    expect(ids(readings).at(-1)).toBe("oven-2/temp=4");
  });

  it("sends keepalive comments and closes the consumer when the client goes", async () => {
    await start({ keepaliveMs: 30 });
    const { res, frames } = await sseClient("?device=nothing");
    await until("keepalive", () => frames.some((f) => f.comment === "keepalive"));
    expect(frames.filter((f) => f.event)).toEqual([]);
    expect(gateway.bus.consumers().map((c) => c.name)).toEqual([
      expect.stringMatching(/^sse:127\.0\.0\.1:\d+$/),
    ]);
    res.destroy();
    await until("consumer closed", () => gateway.bus.consumers().length === 0);
  });

  it("answers a junk filter with a JSON 400", async () => {
    await start();
    const { res } = await sseClient("?point=a/b");
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
  });

  it("does not keep app.close() waiting on open streams", async () => {
    await start();
    const { frames } = await sseClient("");
    await until("snapshot", () => frames.length === 2);
    await app.close();
    expect(gateway.bus.consumers()).toEqual([]);
  });
});
