/** Templates of the generated sink's sources: definition, settings schema, client seam, lifecycle. */
import type { ScaffoldNames } from "./names.js";

/** `src/index.ts`: the definition, default-exported, as the gateway's loader expects. */
export function sinkIndexTs(n: ScaffoldNames): string {
  return `/**
 * The ${n.type} sink definition. The gateway imports this package by name (config \`sinks:\`) and
 * takes its default export.
 */
import { defineSink } from "tagbridge/sdk";
import { type ClientFactory, openClient } from "./client.js";
import { ${n.pascal}SettingsSchema } from "./config.js";
import { create${n.pascal}Sink } from "./sink.js";

/** The definition, with the client factory injectable so unit tests can fake the client seam. */
export function ${n.camel}SinkWith(open: ClientFactory) {
  return defineSink({
    type: "${n.type}",
    description: "TODO: one line saying where this sink publishes readings.",
    sdk: "${n.sdkRange}",
    settingsSchema: ${n.pascal}SettingsSchema,
    capabilities: ["ack", "replay"],
    create: (ctx) => create${n.pascal}Sink(ctx, open),
  });
}

/** The \`${n.type}\` sink type. */
export const ${n.camel}Sink = ${n.camel}SinkWith(openClient);

export default ${n.camel}Sink;
`;
}

/** `src/config.ts`: the TypeBox settings schema, a description on every field. */
export function sinkConfigTs(n: ScaffoldNames): string {
  return `/**
 * Settings of the ${n.type} sink, declared once in TypeBox: the fields of its \`north:\` entry besides
 * the core ones (id, type, select, buffer, publishTimeoutMs, …), none of which it may reuse. Every
 * field needs a \`description\` (the conformance kit checks). The core hands settings over without
 * applying defaults: apply them in the sink.
 */
import Type, { type Static } from "typebox";

/** The sink's own fields of its \`north:\` entry. */
export const ${n.pascal}SettingsSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, description: "Host name or IP address of the peer." }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: "TCP port of the peer." }),
    reconnect: Type.Optional(
      Type.Object(
        {
          minMs: Type.Optional(
            Type.Integer({
              minimum: 1,
              default: 1000,
              description: "First wait before reconnecting, in ms.",
            }),
          ),
          maxMs: Type.Optional(
            Type.Integer({
              minimum: 1,
              default: 30000,
              description: "Longest wait between attempts, in ms.",
            }),
          ),
        },
        { additionalProperties: false, description: "Backoff between connection attempts (doubling)." },
      ),
    ),
  },
  { additionalProperties: false, description: "Where and how to publish." },
);

/** The sink's settings as config holds them. */
export type ${n.pascal}Settings = Static<typeof ${n.pascal}SettingsSchema>;
`;
}

/** `src/client.ts`: the seam around the protocol library, left to implement. */
export function sinkClientTs(n: ScaffoldNames): string {
  return `/**
 * The client seam: the few calls the sink makes to its peer. Wrap the protocol library here and
 * nowhere else; unit tests may fake this interface, integration tests use a real peer.
 */
import type { ${n.pascal}Settings } from "./config.js";

/** A connection to the peer. */
export interface Client {
  /** Connects; rejects when the peer is unreachable. Settles promptly once \`signal\` aborts. */
  connect(signal: AbortSignal): Promise<void>;
  /**
   * Sends one message and resolves once the peer acknowledged it (the \`ack\` capability promises
   * that); rejects when it cannot be sent or acknowledged. \`historical\` marks replayed readings.
   */
  send(payload: Buffer, historical: boolean): Promise<void>;
  /** Called once when an established connection is lost, with the reason. */
  onClose(handler: (reason: string) => void): void;
  /** Disconnects. Idempotent. */
  close(): Promise<void>;
}

/** Makes a client for the sink's settings; does no I/O. */
export type ClientFactory = (settings: ${n.pascal}Settings) => Client;

/** The real client. TODO: implement it with your protocol library. */
export const openClient: ClientFactory = (settings) => ({
  async connect() {
    throw new Error(
      "${n.type}: client not implemented yet (src/client.ts); cannot connect to " +
        settings.host + ":" + settings.port,
    );
  },
  async send() {
    throw new Error("${n.type}: client not implemented yet (src/client.ts)");
  },
  onClose() {},
  async close() {},
});
`;
}

/** `src/sink.ts`: lifecycle, reconnection with backoff, state and publishing over the client seam. */
export function sinkTs(n: ScaffoldNames): string {
  return `/**
 * The ${n.type} sink: start/stop/publish over the client seam. The core owns selection, queues, the
 * durable buffer, replay, timeouts and retries; this file connects, reports whether publishing can
 * succeed (\`ctx.setState\`), and publishes.
 */
import type { Reading, Sink, SinkContext } from "tagbridge/sdk";
import type { Client, ClientFactory } from "./client.js";
import type { ${n.pascal}Settings } from "./config.js";

/** The context the core hands one instance. */
export type ${n.pascal}Context = SinkContext<${n.pascal}Settings>;

/** Longest stop() waits for publishes in flight before it closes the connection. */
const STOP_WAIT_MS = 2000;

/** Creates an instance. No I/O here: start() connects, in the background. */
export function create${n.pascal}Sink(ctx: ${n.pascal}Context, open: ClientFactory): Sink {
  const minMs = ctx.settings.reconnect?.minMs ?? 1000;
  const maxMs = ctx.settings.reconnect?.maxMs ?? 30000;
  let client: Client | undefined;
  let dialing: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let delay = minMs;
  let closing = false;
  const inFlight = new Set<Promise<void>>();

  /** One attempt; on failure the next one is scheduled with the doubling delay. */
  const connect = async (): Promise<void> => {
    if (closing) return;
    const abort = new AbortController();
    dialing = abort;
    const next = open(ctx.settings);
    try {
      await next.connect(abort.signal);
    } catch (error) {
      await next.close();
      if (!closing) lost(error instanceof Error ? error.message : String(error));
      return;
    } finally {
      dialing = undefined;
    }
    if (closing) {
      await next.close();
      return;
    }
    next.onClose((reason) => {
      if (client !== next) return;
      client = undefined;
      if (!closing) lost(reason);
    });
    client = next;
    delay = minMs;
    ctx.setState("connected");
  };

  const lost = (reason: string) => {
    ctx.setState("disconnected", reason);
    timer = setTimeout(() => void connect(), delay);
    delay = Math.min(maxMs, delay * 2);
  };

  return {
    async start() {
      void connect();
    },

    async stop() {
      closing = true;
      clearTimeout(timer);
      dialing?.abort();
      // Publishes in flight may finish (their acks are deliveries); then the connection closes.
      let cut: NodeJS.Timeout | undefined;
      const bound = new Promise((resolve) => {
        cut = setTimeout(resolve, STOP_WAIT_MS);
      });
      await Promise.race([Promise.allSettled([...inFlight]), bound]);
      clearTimeout(cut);
      const current = client;
      client = undefined;
      await current?.close();
    },

    async publish(readings: readonly Reading[], { historical }) {
      const current = client;
      if (closing || !current) throw new Error("${n.type}: not connected");
      // TODO: your peer's message format. A JSON array of Readings is the gateway's own.
      const sending = current.send(Buffer.from(JSON.stringify(readings)), historical);
      inFlight.add(sending);
      try {
        await sending;
      } finally {
        inFlight.delete(sending);
      }
    },
  };
}
`;
}
