/** Prometheus exposition of the registry the gateway's metrics live on. */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Registry } from "prom-client";
import Type from "typebox";
import { errorResponses } from "../errors.js";
import { nonJsonResponse } from "../schemas.js";

export const metricsRoutes: FastifyPluginAsyncTypebox<{ registry: Registry }> = async (app, { registry }) => {
  app.get(
    "/metrics",
    {
      config: { role: "viewer" },
      schema: {
        summary: "Prometheus metrics (text exposition format)",
        tags: ["metrics"],
        response: {
          200: nonJsonResponse(
            "text/plain",
            Type.String(),
            "Prometheus text exposition format, version 0.0.4.",
          ),
          ...errorResponses(),
        },
      },
    },
    async (_request, reply) => {
      const text = await registry.metrics();
      return reply.type(registry.contentType).send(text);
    },
  );
};
