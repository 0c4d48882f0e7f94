/** Status and counters of the north sinks (publishing and store-and-forward). */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import { type SinkStatus, SinkStatusSchema } from "../../north/sink.js";
import { errorResponses } from "../errors.js";

export const northRoutes: FastifyPluginAsyncTypebox<{ north: { status(): SinkStatus[] } }> = async (
  app,
  { north },
) => {
  app.get(
    "/north",
    {
      config: { role: "viewer" },
      schema: {
        summary: "Status and counters of each north sink",
        description:
          "connected, published, buffered, dropped (by cause) and the age of the oldest buffered reading, per sink.",
        tags: ["north"],
        response: { 200: Type.Array(SinkStatusSchema), ...errorResponses() },
      },
    },
    async () => north.status(),
  );
};
