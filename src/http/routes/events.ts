/**
 * Server-Sent Events stream of Readings at `GET /api/v1/events?device=&point=`.
 *
 * One frame per reading: `event: reading` and `data: <Reading JSON>`. It starts with the latest reading
 * of every matching point (unless `snapshot=false`), then live readings in publish order. Readings
 * dropped for a slow client are announced by an `event: dropped` frame with `data: {"dropped": n}`. A `: keepalive` comment is sent every
 * 15 s so proxies keep the connection open. There is no `id:` and no resume: a reconnecting client gets
 * the latest values again. A client that falls behind has whole batches dropped (counted in
 * `tagbridge_http_stream_dropped_readings_total{transport="sse"}`); `seq` shows the gaps.
 */

import type { ServerResponse } from "node:http";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { GatewayView } from "../../core/types.js";
import type { Reading } from "../../schema/reading.js";
import { errorResponses } from "../errors.js";
import { filterFromQuery, nonJsonResponse, StreamQuerySchema } from "../schemas.js";
import {
  clientName,
  openReadingStream,
  type StreamOptions,
  type StreamSlots,
  sendBounded,
} from "../stream-common.js";

/** SSE frames of a batch; JSON.stringify never emits a raw newline, so one `data:` line suffices. */
export function sseFrames(batch: readonly Reading[]): string {
  let out = "";
  for (const r of batch) out += `event: reading\ndata: ${JSON.stringify(r)}\n\n`;
  return out;
}

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  // Tells nginx not to buffer the stream.
  "x-accel-buffering": "no",
};

export const eventsRoutes: FastifyPluginAsyncTypebox<{
  gateway: GatewayView;
  stream: StreamOptions;
  slots: StreamSlots;
}> = async (app, { gateway, stream, slots }) => {
  // Open streams never end by themselves; end them so app.close() does not wait for clients.
  const open = new Set<ServerResponse>();
  app.addHook("preClose", async () => {
    for (const res of open) res.end();
  });

  app.get(
    "/events",
    {
      // A HEAD request would open a stream that never sends anything.
      exposeHeadRoute: false,
      config: { role: "viewer", queryToken: true },
      schema: {
        summary: "Server-Sent Events stream of Readings: the latest values first, then live readings",
        tags: ["streams"],
        querystring: StreamQuerySchema,
        response: {
          200: nonJsonResponse(
            "text/event-stream",
            Type.String(),
            "Frames `event: reading` + `data: <one Reading as JSON>`; `: keepalive` comments every 15 s.",
          ),
          ...errorResponses("TB_ERR_BAD_REQUEST", "TB_ERR_UNAUTHORIZED", "TB_ERR_TOO_MANY_STREAMS"),
        },
      },
    },
    async (request, reply) => {
      slots.check();
      reply.hijack();
      const res = reply.raw;
      // Gone before the stream started (the client aborted): nothing to take or release.
      if (res.destroyed || request.raw.destroyed) return reply;
      const release = slots.take(request.principal?.name, () => res.destroy());
      let consumer: { close(): void } | undefined;
      let timer: NodeJS.Timeout | undefined;
      open.add(res);
      res.on("close", () => {
        open.delete(res);
        clearInterval(timer);
        consumer?.close();
        release();
      });
      res.writeHead(200, SSE_HEADERS);
      res.flushHeaders();
      const name = clientName("sse", request.ip, request.socket.remotePort);
      consumer = openReadingStream(
        gateway.bus,
        {
          name,
          filter: filterFromQuery(request.query),
          capacity: stream.capacity,
          snapshot: request.query.snapshot !== false,
        },
        {
          readings: (batch) =>
            batch.length === 0 ||
            (!res.writableEnded &&
              sendBounded(res.writableLength, batch, stream, "sse", () => res.write(sseFrames(batch)))),
          dropped: (count) => {
            if (!res.writableEnded) res.write(`event: dropped\ndata: {"dropped":${count}}\n\n`);
          },
        },
      );
      timer = setInterval(() => res.write(": keepalive\n\n"), stream.keepaliveMs).unref();
      return reply;
    },
  );
};
