/** Latest readings from the bus's cache, and the Reading schema itself for platforms to validate against. */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { GatewayView } from "../../core/types.js";
import { ReadingSchema } from "../../schema/reading.js";
import { errorResponses } from "../errors.js";
import { filterFromQuery, nonJsonResponse, ReadingQuerySchema } from "../schemas.js";

/** The served document: the one declaration, as plain JSON. */
const READING_JSON_SCHEMA: Record<string, unknown> = JSON.parse(JSON.stringify(ReadingSchema));

export const readingsRoutes: FastifyPluginAsyncTypebox<{ gateway: GatewayView }> = async (
  app,
  { gateway },
) => {
  app.get(
    "/readings/latest",
    {
      config: { role: "viewer" },
      schema: {
        summary: "Latest reading of every point, optionally filtered by device and point ids",
        tags: ["readings"],
        querystring: ReadingQuerySchema,
        response: { 200: Type.Array(ReadingSchema), ...errorResponses("TB_ERR_BAD_REQUEST") },
      },
    },
    async (request) => gateway.bus.latest(filterFromQuery(request.query)),
  );

  app.get(
    "/schema/reading",
    {
      config: { role: "viewer" },
      schema: {
        summary: "The Reading v1 JSON Schema",
        tags: ["readings"],
        response: {
          200: nonJsonResponse(
            "application/schema+json",
            Type.Object({}, { additionalProperties: true }),
            "A JSON Schema document: the Reading v1 schema, `$id` included.",
          ),
          ...errorResponses(),
        },
      },
    },
    async (_request, reply) => reply.type("application/schema+json").send(READING_JSON_SCHEMA),
  );
};
