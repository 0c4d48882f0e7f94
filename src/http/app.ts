/**
 * Builds the HTTP service. Building and listening are separate: the CLI calls
 * `app.listen({ host, port })` with the configured bind address, tests use `app.inject()`.
 */
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import websocket from "@fastify/websocket";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { GatewayView } from "../core/types.js";
import { ReadingSchema } from "../schema/reading.js";
import { registerErrorHandling } from "./errors.js";
import { devicesRoutes } from "./routes/devices.js";
import { eventsRoutes } from "./routes/events.js";
import { healthRoutes } from "./routes/health.js";
import { metricsRoutes } from "./routes/metrics.js";
import { readingsRoutes } from "./routes/readings.js";
import { streamRoutes } from "./routes/stream.js";
import { type StreamOptions, streamDropCounter } from "./stream-common.js";

/** What the HTTP service is built from. */
export interface AppOptions {
  gateway: GatewayView;
  logger: Logger;
  /** Served at `/metrics` when given; stream drop counters are registered on it. */
  metrics?: Registry;
  /** Swagger UI at `/docs`; default true. The OpenAPI document is built either way. */
  docs?: boolean;
  /** Tuning of the WebSocket and SSE streams; the defaults suit production. */
  stream?: Partial<Omit<StreamOptions, "dropped">>;
}

/** The OpenAPI document of an app built by {@link buildApp}. */
export type OpenApiDocument = Exclude<ReturnType<FastifyInstance["swagger"]>, string>;

const STREAM_DEFAULTS: Omit<StreamOptions, "dropped"> = {
  capacity: 5_000,
  keepaliveMs: 15_000,
  maxBufferedBytes: 4 * 1024 * 1024,
};

const READING_ID = (ReadingSchema as { $id?: unknown }).$id;

async function registerOpenApi(app: FastifyInstance, ui: boolean): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: "tagbridge gateway API",
        version: "1",
        description:
          "Devices, points and normalized Readings of one tagbridge gateway, over REST, WebSocket and SSE.",
      },
    },
    // Name the shared Reading schema in components instead of `def-0`.
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => (json.$id === READING_ID ? "Reading" : `def-${i}`),
    },
  });
  if (ui) await app.register(swaggerUi, { routePrefix: "/docs" });
}

/** Builds the HTTP service without listening. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // Request lines at info would drown the log (metrics scrapes alone); see the onResponse hook.
    logController: new LogController({ disableRequestLogging: true }),
    // Unknown query keys are a client mistake worth a 400, not something to strip silently.
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.addHook("onResponse", async (request, reply) => {
    request.log.debug(
      { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime },
      "request",
    );
  });
  registerErrorHandling(app);
  await registerOpenApi(app, options.docs !== false);
  await app.register(websocket);

  const { gateway } = options;
  const stream: StreamOptions = {
    ...STREAM_DEFAULTS,
    ...options.stream,
    dropped: streamDropCounter(options.metrics),
  };
  await app.register(healthRoutes, { gateway });
  await app.register(devicesRoutes, { gateway, prefix: "/api/v1" });
  await app.register(readingsRoutes, { gateway, prefix: "/api/v1" });
  await app.register(streamRoutes, { gateway, stream, prefix: "/api/v1" });
  await app.register(eventsRoutes, { gateway, stream, prefix: "/api/v1" });
  if (options.metrics) await app.register(metricsRoutes, { registry: options.metrics });
  return app;
}

/** The OpenAPI document of `app`, once every route is registered. */
export async function openApiDocument(app: FastifyInstance): Promise<OpenApiDocument> {
  await app.ready();
  return app.swagger() as OpenApiDocument;
}
