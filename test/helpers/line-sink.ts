/**
 * A reference sink and its real peer, for the sink conformance kit's own tests: the sink writes
 * one JSON line per message over TCP (`{"historical":…,"payload":[…readings] or a batch payload}`)
 * and the peer acknowledges each line with `ok`. Small on purpose, but correct by the sink
 * contract (ack, replay, batch, paced reconnects, a clean stop), so that the kit passes on it and
 * each deliberately broken variant of it fails the check that names the breakage.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import Type from "typebox";
import { defineSink, type Sink, type SinkState } from "../../src/sdk/index.js";
import { decodeBatchPayload, type ReceivedReading } from "../../src/sdk/kit.js";

/** Settings of the line sink. */
export const LineSettings = Type.Object(
  {
    host: Type.String({ description: "Peer host." }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: "Peer TCP port." }),
    reconnectMinMs: Type.Optional(Type.Integer({ minimum: 1, description: "First reconnect delay, ms." })),
    reconnectMaxMs: Type.Optional(Type.Integer({ minimum: 1, description: "Longest reconnect delay, ms." })),
  },
  { additionalProperties: false, description: "Where the line peer listens." },
);

/** The reference sink: ack (the peer's `ok`), replay (a `historical` field), batch. */
export const lineSink = defineSink({
  type: "line",
  description: "JSON lines over TCP, acknowledged line by line (test reference sink).",
  sdk: "^1.0.0",
  settingsSchema: LineSettings,
  capabilities: ["ack", "replay", "batch"],
  create(ctx): Sink {
    const { host, port } = ctx.settings;
    const minMs = ctx.settings.reconnectMinMs ?? 20;
    const maxMs = ctx.settings.reconnectMaxMs ?? 200;
    /** The socket being dialed or connected, and the connected one. */
    let current: Socket | undefined;
    let socket: Socket | undefined;
    let state: SinkState | undefined;
    let stopped = false;
    let attempt = 0;
    let timer: NodeJS.Timeout | undefined;
    let closed: Promise<void> = Promise.resolve();
    const acks: { resolve(): void; reject(e: Error): void }[] = [];
    const report = (next: SinkState, reason?: string) => {
      if (state !== next && !stopped) ctx.setState(next, reason);
      state = next;
    };
    const failAll = (error: Error) => {
      for (const a of acks.splice(0)) a.reject(error);
    };
    const dial = () => {
      if (stopped) return;
      const s = tcpConnect(port, host);
      current = s;
      let reason = "connection closed";
      let input = "";
      closed = new Promise((resolve) => s.once("close", () => resolve()));
      s.setEncoding("utf8");
      s.on("connect", () => {
        attempt = 0;
        socket = s;
        report("connected");
      });
      s.on("data", (chunk: string) => {
        input += chunk;
        for (let nl = input.indexOf("\n"); nl >= 0; nl = input.indexOf("\n")) {
          input = input.slice(nl + 1);
          acks.shift()?.resolve();
        }
      });
      s.on("error", (e) => {
        reason = e.message;
      });
      s.on("close", () => {
        if (socket === s) socket = undefined;
        failAll(new Error(`line peer: ${reason}`));
        report("disconnected", reason);
        if (stopped) return;
        timer = setTimeout(dial, Math.min(maxMs, minMs * 2 ** attempt++));
        timer.unref();
      });
    };
    const send = (line: string) =>
      new Promise<void>((resolve, reject) => {
        if (stopped) return reject(new Error("line sink stopped"));
        if (!socket) return reject(new Error("line peer: not connected"));
        acks.push({ resolve, reject });
        socket.write(`${line}\n`);
      });
    return {
      async start() {
        dial();
      },
      async stop() {
        stopped = true;
        clearTimeout(timer);
        // end() flushes what was written; the peer reads it all before its side closes.
        current?.end();
        const forced = setTimeout(() => current?.destroy(), 1_000);
        await closed;
        clearTimeout(forced);
        failAll(new Error("line sink stopped"));
      },
      publish: (readings, { historical }) => send(JSON.stringify({ historical, payload: readings })),
      batching: {
        policy: { by: "device", maxReadings: 50, maxBytes: 16_384, lingerMs: 20 },
        publish: async (batches, { historical }) => {
          await Promise.all(batches.map((b) => send(`{"historical":${historical},"payload":${b.payload}}`)));
        },
      },
    };
  },
});

/** A running line peer. */
export interface LinePeer {
  port: number;
  /** Every reading received, in order, with its historical flag. */
  received: ReceivedReading[];
  /** Connections accepted so far. */
  contacts: number;
  /** Stops listening and drops every connection. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

/** Starts a line peer on a free loopback port. */
export async function startLinePeer(): Promise<LinePeer> {
  const sockets = new Set<Socket>();
  const peer: LinePeer = { port: 0, received: [], contacts: 0, stop, start };
  let server: Server | undefined;
  const onLine = (line: string) => {
    const msg = JSON.parse(line) as { historical: boolean; payload: unknown };
    const readings = decodeBatchPayload(JSON.stringify(msg.payload));
    for (const reading of readings) peer.received.push({ reading, historical: msg.historical });
  };
  async function start(): Promise<void> {
    if (server) return;
    const next = createServer((s) => {
      peer.contacts++;
      sockets.add(s);
      let input = "";
      s.setEncoding("utf8");
      s.on("data", (chunk: string) => {
        input += chunk;
        for (let nl = input.indexOf("\n"); nl >= 0; nl = input.indexOf("\n")) {
          onLine(input.slice(0, nl));
          input = input.slice(nl + 1);
          s.write("ok\n");
        }
      });
      s.on("error", () => undefined);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      next.once("error", reject);
      next.listen(peer.port, "127.0.0.1", () => resolve());
    });
    server = next;
    peer.port = (next.address() as { port: number }).port;
  }
  async function stop(): Promise<void> {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (s) await new Promise((resolve) => s.close(resolve));
  }
  await start();
  return peer;
}
