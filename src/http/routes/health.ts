/** Liveness and readiness probes, for container orchestrators and load balancers. */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { GatewayView } from "../../core/types.js";
import { errorResponses, fail } from "../errors.js";

const HealthSchema = Type.Object({ status: Type.Literal("ok") }, { additionalProperties: false });
const ReadySchema = Type.Object({ status: Type.Literal("ready") }, { additionalProperties: false });

export const healthRoutes: FastifyPluginAsyncTypebox<{ gateway: GatewayView }> = async (app, { gateway }) => {
  app.get(
    "/healthz",
    {
      config: { role: "public", rateLimit: false },
      schema: {
        summary: "Liveness: the process is up and serving HTTP",
        tags: ["health"],
        response: { 200: HealthSchema, ...errorResponses() },
      },
    },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      config: { role: "public", rateLimit: false },
      schema: {
        summary: "Readiness: every enabled device has made its first connection attempt",
        tags: ["health"],
        response: { 200: ReadySchema, ...errorResponses("TB_ERR_NOT_READY") },
      },
    },
    async () => {
      if (!gateway.ready()) fail("TB_ERR_NOT_READY");
      return { status: "ready" as const };
    },
  );
};
