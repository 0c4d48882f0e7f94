/**
 * WebSocket stream of Readings at `GET /api/v1/stream?device=&point=`.
 *
 * Every server message is a text frame holding a JSON array of Readings, or a notice object. The
 * first message is the snapshot: the latest reading of every matching point (possibly `[]`; skipped
 * with `snapshot=false`), so a client needs no REST call to start. Then each message is one batch of
 * live readings in publish order. A client that falls behind has readings dropped (counted in
 * `tagbridge_http_stream_dropped_readings_total{transport="ws"}`) and is told so by a
 * `{"dropped": n}` message before its next batch; `seq` shows the gaps. Messages from the client
 * are ignored.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type, { type Static } from "typebox";
import type { WebSocket } from "ws";
import type { GatewayView } from "../../core/types.js";
import { ReadingSchema } from "../../schema/reading.js";
import { errorResponses, fail } from "../errors.js";
import { filterFromQuery, StreamQuerySchema } from "../schemas.js";
import {
  clientName,
  openReadingStream,
  type StreamOptions,
  type StreamSlots,
  sendBounded,
} from "../stream-common.js";

type StreamQuery = Static<typeof StreamQuerySchema>;

/** Closes the stream of a revoked token: a close frame now, the TCP connection soon after either way. */
function revoked(socket: WebSocket): void {
  socket.close(1008, "token revoked");
  setTimeout(() => socket.terminate(), 500).unref();
}

/** Pings every `ms`; a client that has not answered the previous ping by then is cut off. */
function heartbeat(socket: WebSocket, ms: number): NodeJS.Timeout {
  let answered = true;
  socket.on("pong", () => {
    answered = true;
  });
  return setInterval(() => {
    if (!answered) return socket.terminate();
    answered = false;
    socket.ping();
  }, ms).unref();
}

export const streamRoutes: FastifyPluginAsyncTypebox<{
  gateway: GatewayView;
  stream: StreamOptions;
  slots: StreamSlots;
}> = async (app, { gateway, stream, slots }) => {
  // `wsHandler` plus a plain handler (rather than `websocket: true`) keeps the route in the OpenAPI
  // document and answers a GET without upgrade with a coded error instead of a bare 404.
  app.route({
    method: "GET",
    url: "/stream",
    exposeHeadRoute: false,
    config: { role: "viewer", queryToken: true },
    schema: {
      summary: "WebSocket stream of Readings: the latest values first, then live batches",
      description:
        "Upgrade to WebSocket. Each text message is one JSON array of Readings: first the latest value of every matching point (possibly empty), then live batches in publish order.",
      tags: ["streams"],
      querystring: StreamQuerySchema,
      response: {
        101: Type.Array(ReadingSchema, {
          description: "Switching Protocols; every message is one such array.",
        }),
        ...errorResponses(
          "TB_ERR_BAD_REQUEST",
          "TB_ERR_UNAUTHORIZED",
          "TB_ERR_UPGRADE_REQUIRED",
          "TB_ERR_TOO_MANY_STREAMS",
        ),
      },
    },
    handler: async (_request, reply) => {
      reply.header("upgrade", "websocket");
      fail("TB_ERR_UPGRADE_REQUIRED");
    },
    // A full gateway refuses before the upgrade; the slot itself is taken once the upgrade is done,
    // so a plain GET (426) or a failed handshake never holds one.
    preHandler: async (request) => {
      if (request.ws) slots.check();
    },
    wsHandler: (socket, request) => {
      let release: () => void;
      try {
        release = slots.take(request.principal?.name, () => revoked(socket));
      } catch {
        // Another client took the last slot between the check and the upgrade.
        socket.close(1013, "too many stream clients");
        return;
      }
      const name = clientName("ws", request.ip, request.socket.remotePort);
      const query = request.query as StreamQuery;
      const consumer = openReadingStream(
        gateway.bus,
        {
          name,
          filter: filterFromQuery(query),
          capacity: stream.capacity,
          snapshot: query.snapshot !== false,
        },
        {
          readings: (batch) =>
            socket.readyState === socket.OPEN &&
            sendBounded(socket.bufferedAmount, batch, stream, "ws", () => socket.send(JSON.stringify(batch))),
          dropped: (count) => {
            if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ dropped: count }));
          },
        },
      );
      const timer = heartbeat(socket, stream.keepaliveMs);
      socket.on("error", (err) => request.log.debug({ err, client: name }, "websocket error"));
      socket.on("close", () => {
        clearInterval(timer);
        consumer.close();
        release();
      });
    },
  });
};
