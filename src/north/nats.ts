/**
 * The NATS JetStream sink: each Reading as JSON on a subject from a template, with the message id
 * `{gateway}:{seq}` so the stream drops duplicates (within its duplicate window) that
 * at-least-once delivery may produce. Each publish awaits the stream's acknowledgement of every
 * message (jetstream-publish.ts: one FIFO and a window of unacknowledged messages). The stream is
 * created when missing unless `stream.create: never`.
 */
import type { NatsConnection, NodeConnectionOptions } from "@nats-io/transport-node";
import { readingJsonWriter } from "../schema/reading-json.js";
import { lazyImport } from "../sdk/lazy.js";
import { defineSink, type Sink, type SinkContext } from "../sdk/sink.js";
import type { JetStreamPublisher } from "./jetstream-publish.js";
import { fillTemplate } from "./mqtt-connect.js";
import { type NatsSettings, NatsSettingsSchema } from "./nats-config.js";
import { pointNames } from "./topic-cache.js";

/** nats.js and the publisher over it, imported when the first NATS sink starts. */
const natsJs = lazyImport(async () => ({
  transport: await import("@nats-io/transport-node"),
  jetstream: await import("@nats-io/jetstream"),
  publish: await import("./jetstream-publish.js"),
}));

/** NATS subject tokens: '.', '*', '>' and whitespace become '_'. */
export const natsToken = (s: string) => s.replace(/[.*>\s]/g, "_");

/** The subjects a created stream covers: the template's tokens before the first placeholder other than {gateway}, then `>`. */
export function defaultSubjects(template: string, gateway: string): string[] {
  const tokens = fillTemplate(template, { gateway }, natsToken).split(".");
  const cut = tokens.findIndex((t) => /\{\w+\}/.test(t));
  const prefix = cut < 0 ? tokens.slice(0, -1) : tokens.slice(0, cut);
  return [[...prefix, ">"].join(".")];
}

/** The nats sink type: each Reading as JSON on a JetStream subject, acknowledged by the stream. */
export const natsSink = defineSink({
  type: "nats",
  description: "NATS JetStream, JSON Readings.",
  sdk: "^1.0.0",
  settingsSchema: NatsSettingsSchema,
  capabilities: ["ack"],
  create: createNatsSink,
});

/** Creates a nats sink; nothing connects before `start()`. */
export function createNatsSink(ctx: SinkContext<NatsSettings>): Sink {
  const { settings: config, gateway, log } = ctx;
  const template = config.subject ?? "tagbridge.{gateway}.{device}.{point}";
  const streamName = config.stream?.name ?? "TAGBRIDGE";
  let nc: NatsConnection | undefined;
  let publisher: JetStreamPublisher | undefined;
  /** Writes each Reading's JSON (one message per reading). */
  const json = readingJsonWriter();
  const subjectOf = pointNames((device, point) =>
    fillTemplate(template, { gateway, device, point }, natsToken),
  );
  const messages = {
    subject: (r: { device: string; point: string }) => subjectOf(r.device, r.point),
    msgId: (r: { seq: number }) => `${gateway}:${r.seq}`,
    payload: json.toBuffer.bind(json),
  };
  const timeoutMs = ctx.publishTimeoutMs;
  let up = false;
  let closed = false;
  let lastError: string | undefined;
  const report = () => ctx.setState(up ? "connected" : "disconnected", lastError);
  const setUp = (v: boolean, reason?: string) => {
    if (reason !== undefined) lastError = reason;
    if (up === v) {
      if (reason !== undefined) report();
      return;
    }
    up = v;
    log.info(
      { sink: ctx.sink, up: v, reason },
      v ? "north NATS sink connected" : "north NATS sink disconnected",
    );
    report();
  };

  const ensureStream = async (c: NatsConnection) => {
    const { jetstream, transport } = natsJs.get();
    const jsm = await jetstream.jetstreamManager(c);
    try {
      await jsm.streams.info(streamName);
      return;
    } catch (error) {
      if ((error as { name?: string }).name !== "StreamNotFoundError" || config.stream?.create === "never")
        throw error;
    }
    await jsm.streams.add({
      name: streamName,
      subjects: config.stream?.subjects ?? defaultSubjects(template, gateway),
      duplicate_window: transport.nanos(config.stream?.duplicateWindowMs ?? 120_000),
    });
    log.info({ sink: ctx.sink, stream: streamName }, "created JetStream stream");
  };

  const run = async () => {
    const { transport, publish } = await natsJs.load();
    const opts: NodeConnectionOptions = {
      servers: config.servers,
      name: `tagbridge-${gateway}-${ctx.sink}`,
      waitOnFirstConnect: true,
      // An Error (with its stack) per request for async traces cost more than the rest of a
      // JetStream publish together; a replay of thousands per second starved acquisition.
      noAsyncTraces: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
    };
    if (config.username !== undefined) opts.user = config.username;
    if (config.password !== undefined) opts.pass = config.password;
    if (config.token !== undefined) opts.token = config.token;
    const c = await transport.connect(opts);
    if (closed) {
      await c.close();
      return;
    }
    nc = c;
    publisher = new publish.JetStreamPublisher(c, messages, timeoutMs);
    // The stream must exist before data goes out; retried on every (re)connect until it does.
    const ready = async () => {
      for (let i = 0; !closed && !c.isClosed(); i++) {
        try {
          await ensureStream(c);
          setUp(true);
          return;
        } catch (error) {
          lastError = error instanceof Error ? error.message : String(error);
          report();
          if (i === 0) log.warn({ sink: ctx.sink, err: lastError }, "JetStream stream not usable; retrying");
          await new Promise((r) => setTimeout(r, 2_000).unref());
          if (c.isClosed() || c.isDraining()) return;
        }
      }
    };
    void ready();
    for await (const s of c.status()) {
      if (s.type === "disconnect") {
        setUp(false, `disconnected from ${s.server}`);
        publisher?.failAll(`disconnected from ${s.server}`);
      } else if (s.type === "reconnect") void ready();
      else if (s.type === "error") {
        lastError = s.error.message;
        report();
      }
    }
  };

  return {
    // Calls go out in call order (one FIFO, one connection), however many are unacknowledged.
    pipelined: true,
    async start() {
      // connect() waits for the first connection (waitOnFirstConnect) without status events:
      // say so now, so a server that is down shows as disconnected with a reason meanwhile.
      ctx.setState("disconnected", `connecting to ${config.servers.join(", ")}`);
      run().catch((error: Error) => {
        lastError = error.message;
        report();
        if (!closed) log.error({ sink: ctx.sink, err: error.message }, "north NATS sink stopped");
        setUp(false);
      });
    },
    async publish(readings) {
      if (!publisher || !up) throw new Error("NATS sink not connected");
      await publisher.publish(readings);
    },
    async stop() {
      if (closed) return;
      closed = true;
      up = false;
      publisher?.close();
      if (nc && !nc.isClosed()) await nc.drain().catch(() => nc?.close());
    },
  };
}
