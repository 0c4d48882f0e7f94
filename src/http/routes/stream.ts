/**
 * WebSocket stream of Readings at `GET /api/v1/stream?device=&point=`.
 *
 * Every server message is a text frame holding one JSON array of Readings. The first message is the
 * snapshot: the latest reading of every matching point (possibly `[]`), so a client needs no REST call
 * to start. Then each message is one batch of live readings in publish order. Messages from the client
 * are ignored. A client that falls behind has whole batches dropped (counted in
 * `tagbridge_http_stream_dropped_readings_total{transport="ws"}`); `seq` shows the gaps.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { WebSocket } from "ws";
import type { GatewayView } from "../../core/types.js";
import { ReadingSchema } from "../../schema/reading.js";
import { errorResponses, fail } from "../errors.js";
import { filterFromQuery, ReadingQuerySchema } from "../schemas.js";
import { clientName, openReadingStream, type StreamOptions, sendBounded } from "../stream-common.js";

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
}> = async (app, { gateway, stream }) => {
  // `wsHandler` plus a plain handler (rather than `websocket: true`) keeps the route in the OpenAPI
  // document and answers a GET without upgrade with a coded error instead of a bare 404.
  app.route({
    method: "GET",
    url: "/stream",
    exposeHeadRoute: false,
    schema: {
      summary: "WebSocket stream of Readings: the latest values first, then live batches",
      description:
        "Upgrade to WebSocket. Each text message is one JSON array of Readings: first the latest value of every matching point (possibly empty), then live batches in publish order.",
      tags: ["streams"],
      querystring: ReadingQuerySchema,
      response: {
        101: Type.Array(ReadingSchema, {
          description: "Switching Protocols; every message is one such array.",
        }),
        ...errorResponses("TB_ERR_BAD_REQUEST", "TB_ERR_UPGRADE_REQUIRED"),
      },
    },
    handler: async (_request, reply) => {
      reply.header("upgrade", "websocket");
      fail("TB_ERR_UPGRADE_REQUIRED");
    },
    wsHandler: (socket, request) => {
      const name = clientName("ws", request.ip, request.socket.remotePort);
      const filter = filterFromQuery(request.query);
      const consumer = openReadingStream(
        gateway.bus,
        { name, filter, capacity: stream.capacity },
        (batch) => {
          if (socket.readyState !== socket.OPEN) return;
          sendBounded(socket.bufferedAmount, batch, stream, "ws", () => socket.send(JSON.stringify(batch)));
        },
      );
      const timer = heartbeat(socket, stream.keepaliveMs);
      socket.on("error", (err) => request.log.debug({ err, client: name }, "websocket error"));
      socket.on("close", () => {
        clearInterval(timer);
        consumer.close();
      });
    },
  });
};
