/**
 * The NATS JetStream sink: each Reading as JSON on a subject from a template, with the message id
 * `{gateway}:{seq}` so the stream drops duplicates (within its duplicate window) that
 * at-least-once delivery may produce. Each publish awaits the stream's acknowledgement of every
 * message (jetstream-publish.ts: one FIFO and a window of unacknowledged messages). The stream is
 * created when missing unless `stream.create: never`.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection, type NodeConnectionOptions, nanos } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { readingJsonWriter } from "../schema/reading-json.js";
import { type NatsSinkConfig, NORTH_DEFAULTS } from "./config.js";
import { JetStreamPublisher } from "./jetstream-publish.js";
import { fillTemplate } from "./mqtt-connect.js";
import type { Transport } from "./sink.js";
import { pointNames } from "./topic-cache.js";

/** NATS subject tokens: '.', '*', '>' and whitespace become '_'. */
export const natsToken = (s: string) => s.replace(/[.*>\s]/g, "_");

/** The subjects a created stream covers: the template's tokens before the first placeholder other than {gateway}, then `>`. */
export function defaultSubjects(template: string, gateway: string): string[] {
  const tokens = fillTemplate(template, { gateway }, natsToken).split(".");
  const cut = tokens.findIndex((t) => /\{\w+\}/.test(t));
  const prefix = cut < 0 ? tokens.slice(0, -1) : tokens.slice(0, cut);
  return [[...prefix, ">"].join(".")];
}

/** Creates the transport; nothing connects before `start()`. */
export function natsTransport(config: NatsSinkConfig, gateway: string, log: Logger): Transport {
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
  const timeoutMs = config.publishTimeoutMs ?? NORTH_DEFAULTS.publishTimeoutMs;
  let up = false;
  let closed = false;
  let lastError: string | undefined;
  let onChange = () => {};
  const setUp = (v: boolean, reason?: string) => {
    if (reason !== undefined) lastError = reason;
    if (up === v) return;
    up = v;
    log.info(
      { sink: config.id, up: v, reason },
      v ? "north NATS sink connected" : "north NATS sink disconnected",
    );
    onChange();
  };

  const ensureStream = async (c: NatsConnection) => {
    const jsm = await jetstreamManager(c);
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
      duplicate_window: nanos(config.stream?.duplicateWindowMs ?? 120_000),
    });
    log.info({ sink: config.id, stream: streamName }, "created JetStream stream");
  };

  const run = async () => {
    const opts: NodeConnectionOptions = {
      servers: config.servers,
      name: `tagbridge-${gateway}-${config.id}`,
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
    const c = await connect(opts);
    if (closed) {
      await c.close();
      return;
    }
    nc = c;
    publisher = new JetStreamPublisher(c, messages, timeoutMs);
    // The stream must exist before data goes out; retried on every (re)connect until it does.
    const ready = async () => {
      for (let i = 0; !closed && !c.isClosed(); i++) {
        try {
          await ensureStream(c);
          setUp(true);
          return;
        } catch (error) {
          lastError = error instanceof Error ? error.message : String(error);
          if (i === 0) log.warn({ sink: config.id, err: lastError }, "JetStream stream not usable; retrying");
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
      else if (s.type === "error") lastError = s.error.message;
    }
  };

  return {
    // Calls go out in call order (one FIFO, one connection), however many are unacknowledged.
    pipelined: true,
    get up() {
      return up;
    },
    get lastError() {
      return lastError;
    },
    onChange(handler) {
      onChange = handler;
    },
    async start() {
      run().catch((error: Error) => {
        lastError = error.message;
        if (!closed) log.error({ sink: config.id, err: error.message }, "north NATS sink stopped");
        setUp(false);
      });
    },
    async publish(readings) {
      if (!publisher || !up) throw new Error("NATS sink not connected");
      await publisher.publish(readings);
    },
    async close() {
      if (closed) return;
      closed = true;
      up = false;
      publisher?.close();
      if (nc && !nc.isClosed()) await nc.drain().catch(() => nc?.close());
    },
  };
}
