/**
 * A real webhook for the tests: a node:http (or node:https) server on a free loopback port that
 * takes POSTed JSON arrays of Readings, records each with the historical flag its request carried,
 * and answers as `mode` says: 200, a given status, a connection cut in the middle of a 200, or a
 * slow answer. It can be stopped (nothing listens) and started again on the same port.
 */
import {
  createServer as createHttp,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttps } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { ReceivedReading } from "tagbridge/sdk/testing";

/** How the peer answers every request, probes included. */
export type Mode =
  | { kind: "ok" }
  | { kind: "status"; status: number; body?: string; retryAfter?: number }
  /** Sends the head of a 200 and part of its body, then closes the connection. */
  | { kind: "cut" }
  /** Answers 200 after `ms`; a POST is recorded then. */
  | { kind: "slow"; ms: number };

/** One request as the peer saw it. */
export interface Seen {
  method: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** Epoch ms when its body was complete. */
  at: number;
}

/** A running peer. */
export interface WebhookPeer {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Readings of POSTs answered 200, in order. */
  received: ReceivedReading[];
  /** Every request, probes included. */
  requests: Seen[];
  /** Connections accepted so far. */
  connections: number;
  mode: Mode;
  /** Stops listening and drops every connection. */
  stop(): Promise<void>;
  /** Listens again on the same port; does nothing while it listens. */
  start(): Promise<void>;
}

/** Starts a peer; with `tls` it serves HTTPS with that key and certificate. */
export async function startWebhookPeer(tls?: { key: string; cert: string }): Promise<WebhookPeer> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const peer: WebhookPeer = {
    url: "",
    received: [],
    requests: [],
    connections: 0,
    mode: { kind: "ok" },
    stop,
    start,
  };

  const answer = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const seen = { method: req.method ?? "", headers: req.headers, body, at: Date.now() };
    peer.requests.push(seen);
    const mode = peer.mode;
    const record = () => {
      if (req.method !== "POST") return;
      const historical = req.headers["tagbridge-historical"] === "true";
      for (const reading of JSON.parse(body)) peer.received.push({ reading, historical });
    };
    if (mode.kind === "ok") {
      record();
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    } else if (mode.kind === "status") {
      const headers = mode.retryAfter === undefined ? {} : { "retry-after": String(mode.retryAfter) };
      res.writeHead(mode.status, headers).end(mode.body ?? "");
    } else if (mode.kind === "cut") {
      res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      res.write('{"accepted":', () => res.socket?.destroy());
    } else {
      setTimeout(() => {
        if (res.destroyed) return;
        record();
        res.writeHead(200).end("ok");
      }, mode.ms);
    }
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => answer(req, res, Buffer.concat(chunks).toString("utf8")));
  };

  async function start(): Promise<void> {
    if (server) return;
    const next = tls ? createHttps(tls, handler) : createHttp(handler);
    next.on(tls ? "secureConnection" : "connection", (s: Socket) => {
      peer.connections++;
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    next.on("tlsClientError", () => undefined);
    await new Promise<void>((resolve, reject) => {
      next.once("error", reject);
      next.listen(port, "127.0.0.1", () => resolve());
    });
    server = next;
    port = (next.address() as AddressInfo).port;
    peer.url = `${tls ? "https" : "http"}://127.0.0.1:${port}`;
  }

  async function stop(): Promise<void> {
    const s = server;
    server = undefined;
    if (!s) return;
    const closed = new Promise((resolve) => s.close(resolve));
    s.closeAllConnections();
    for (const socket of sockets) socket.destroy();
    await closed;
  }

  await start();
  return peer;
}
