/**
 * Builds the HTTP service. Building and listening are separate: the CLI calls
 * `app.listen({ host, port })` with the configured bind address, tests use `app.inject()`.
 */
import cors from "@fastify/cors";
import helmet from "@fastify/helmet";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import websocket from "@fastify/websocket";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { AuditLog } from "../core/audit.js";
import type { GatewayView } from "../core/types.js";
import type { HistoryReader } from "../history/types.js";
import type { SinkStatus } from "../north/sink.js";
import { ReadingSchema } from "../schema/reading.js";
import type { AdapterDefinition } from "../sdk/adapter.js";
import { type Access, type AuthOptions, registerAuth } from "./auth/guard.js";
import { registerOriginCheck } from "./auth/origin.js";
import type { HttpConfig } from "./config.js";
import { CodedError, frameworkErrors, registerErrorHandling, registerNotFound } from "./errors.js";
import { clientErrorHandler, registerJsonDepthLimit, registerUrlLimit } from "./limits.js";
import { type CertificateRoutesOptions, certificateRoutes } from "./routes/certificates.js";
import { type ConfigAccess, configRoutes } from "./routes/config.js";
import { consoleRoutes } from "./routes/console.js";
import { devicesRoutes } from "./routes/devices.js";
import { eventsRoutes } from "./routes/events.js";
import { healthRoutes } from "./routes/health.js";
import { historyRoutes } from "./routes/history.js";
import { metricsRoutes } from "./routes/metrics.js";
import { northRoutes } from "./routes/north.js";
import { readingsRoutes } from "./routes/readings.js";
import { streamRoutes } from "./routes/stream.js";
import { tokenRoutes } from "./routes/tokens.js";
import { writeRoutes } from "./routes/writes.js";
import { type StreamOptions, StreamSlots, streamDropCounter } from "./stream-common.js";

/** Request limits and browser access; defaults match the config's. */
export type HttpLimits = Pick<
  HttpConfig,
  "rateLimit" | "bodyLimitBytes" | "requestTimeoutMs" | "maxStreamClients" | "cors" | "allowedHosts"
>;

/** What the HTTP service is built from. */
export interface AppOptions {
  gateway: GatewayView;
  /** Who may call what; every route but `/healthz`, `/readyz` and `/docs` needs a token. */
  auth: AuthOptions;
  /** Where writes are recorded; the write and audit routes exist only when it is given. */
  audit?: AuditLog;
  /** The running config, for the configuration and device-management routes (admin). */
  config?: ConfigAccess;
  /** Adapter types, for `GET /api/v1/adapters`. */
  registry?: { list(): readonly AdapterDefinition[] };
  /** Folder of the built web console; `dist/console` of the package by default. */
  consoleRoot?: string;
  /** North sinks, for `GET /api/v1/north`. */
  north?: { status(): SinkStatus[] };
  /** Peer certificate trust lists per adapter type (OPC UA). */
  certificates?: CertificateRoutesOptions["stores"];
  /** Stored readings; the history route exists only when it is given. */
  history?: HistoryReader;
  logger: Logger;
  /** Served at `/metrics` when given; stream drop counters are registered on it. */
  metrics?: Registry;
  /** Swagger UI at `/docs`; default true. The OpenAPI document is built either way. */
  docs?: boolean;
  /** Serve HTTPS with this certificate and key (PEM). */
  https?: { cert: Buffer; key: Buffer };
  limits?: Partial<HttpLimits>;
  /** Tuning of the WebSocket and SSE streams; the defaults suit production. */
  stream?: Partial<Omit<StreamOptions, "dropped">>;
}

/** One registered route and the role it declared (undefined: none, which means admin). */
export interface RouteAccess {
  method: string;
  url: string;
  role: Access | undefined;
  /** The route schema's summary, for docs. */
  summary?: string;
}

declare module "fastify" {
  interface FastifyInstance {
    /** Every route registered, with its declared role, for audits and docs. */
    routeTable: readonly RouteAccess[];
  }
}

/** The OpenAPI document of an app built by {@link buildApp}. */
export type OpenApiDocument = Exclude<ReturnType<FastifyInstance["swagger"]>, string>;

const LIMIT_DEFAULTS: HttpLimits = {
  rateLimit: { max: 1200, windowMs: 60_000 },
  bodyLimitBytes: 1_048_576,
  requestTimeoutMs: 30_000,
  maxStreamClients: 100,
};

const STREAM_DEFAULTS: Omit<StreamOptions, "dropped" | "maxClients"> = {
  capacity: 5_000,
  keepaliveMs: 15_000,
  maxBufferedBytes: 4 * 1024 * 1024,
};

const READING_ID = (ReadingSchema as { $id?: unknown }).$id;

/** Methods the API's routes use; a CORS preflight allows exactly these. */
const CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE"];

/** Drops `upgrade-insecure-requests` from a CSP: over plain HTTP it makes the browser refetch every asset over HTTPS, which fails. */
const withoutUpgrade = (csp: string) => csp.replace(/\s*upgrade-insecure-requests;?/g, "").trim();

async function registerOpenApi(app: FastifyInstance, ui: boolean, tls: boolean): Promise<void> {
  await app.register(swagger, {
    openapi: {
      components: {
        securitySchemes: {
          bearerAuth: {
            type: "http",
            scheme: "bearer",
            description: "An API token; roles viewer < operator < admin.",
          },
        },
      },
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
  if (ui)
    await app.register(swaggerUi, {
      routePrefix: "/docs",
      staticCSP: true,
      ...(tls ? {} : { transformStaticCSP: withoutUpgrade }),
    });
}

/** Security headers, CORS and the per-client rate limit. */
async function registerProtections(app: FastifyInstance, limits: HttpLimits, tls: boolean): Promise<void> {
  await app.register(helmet, {
    hsts: tls,
    contentSecurityPolicy: { useDefaults: true, directives: tls ? {} : { upgradeInsecureRequests: null } },
  });
  // Not strict: an OPTIONS that is no proper preflight gets an empty 204, not the plugin's text 400.
  await app.register(cors, {
    origin: limits.cors?.origins ?? false,
    methods: CORS_METHODS,
    strictPreflight: false,
  });
  await app.register(rateLimit, {
    max: limits.rateLimit.max,
    timeWindow: limits.rateLimit.windowMs,
    errorResponseBuilder: (_request, context) =>
      new CodedError("TB_ERR_RATE_LIMITED", [
        { field: "request", message: `limit ${context.max} per ${context.after}` },
      ]),
  });
}

/** Builds the HTTP service without listening. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const limits: HttpLimits = { ...LIMIT_DEFAULTS, ...options.limits };
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // Request lines at info would drown the log (metrics scrapes alone); see the onResponse hook.
    logController: new LogController({ disableRequestLogging: true }),
    // Unknown query keys are a client mistake worth a 400, not something to strip silently.
    ajv: { customOptions: { removeAdditional: false } },
    bodyLimit: limits.bodyLimitBytes,
    requestTimeout: limits.requestTimeoutMs,
    // Ids are up to 128 characters (src/sdk/point.ts), percent-encoded up to three times that; the
    // route schemas refuse what is longer. (Fastify's default of 100 made longer ids unreachable.)
    routerOptions: { maxParamLength: 3 * 128 },
    frameworkErrors,
    clientErrorHandler,
    ...(options.https ? { https: options.https } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.addHook("onResponse", async (request, reply) => {
    // The URL may carry `access_token`: never log the query string.
    request.log.debug(
      {
        method: request.method,
        url: request.url.split("?")[0],
        status: reply.statusCode,
        ms: reply.elapsedTime,
      },
      "request",
    );
  });
  registerErrorHandling(app, false);
  // Early, so that `request.ws` is known to every hook and a refused handshake's socket is closed.
  await app.register(websocket);
  registerUrlLimit(app);
  registerJsonDepthLimit(app);
  const table: RouteAccess[] = [];
  app.decorate("routeTable", table);
  app.addHook("onRoute", (route) => {
    // Swagger UI's own routes carry no config: the docs are public, like the document they show.
    if (route.url.startsWith("/docs")) route.config = { ...route.config, role: "public" };
    // CORS preflights carry no credentials by design; the request that follows is checked.
    if (route.method === "OPTIONS") route.config = { ...route.config, role: "public" };
    const role = (route.config as { role?: Access } | undefined)?.role;
    const summary = (route.schema as { summary?: string } | undefined)?.summary;
    for (const method of [route.method].flat())
      table.push({ method, url: route.url, role, ...(summary ? { summary } : {}) });
    if (role !== "public" && route.schema) route.schema = { ...route.schema, security: [{ bearerAuth: [] }] };
  });
  const tls = options.https !== undefined;
  await registerProtections(app, limits, tls);
  // Unknown routes count against the rate limit too (the limiter's own hook is only on routes).
  registerNotFound(app, { preHandler: (app as FastifyInstance).rateLimit() });
  registerOriginCheck(app, {
    ...(options.auth.anonymous ? { anonymous: options.auth.anonymous } : {}),
    ...(limits.allowedHosts ? { allowedHosts: limits.allowedHosts } : {}),
    ...(limits.cors ? { corsOrigins: limits.cors.origins } : {}),
  });
  registerAuth(app, options.auth);
  await registerOpenApi(app, options.docs !== false, tls);

  const { gateway } = options;
  const stream: StreamOptions = {
    ...STREAM_DEFAULTS,
    maxClients: limits.maxStreamClients,
    ...options.stream,
    dropped: streamDropCounter(options.metrics),
  };
  const slots = new StreamSlots(stream.maxClients);
  // A revoked token keeps no stream open.
  const unsubscribe = options.auth.tokens.onRemoved((name) => slots.endOwnedBy(name));
  app.addHook("onClose", async () => unsubscribe());
  await app.register(healthRoutes, { gateway });
  await app.register(devicesRoutes, { gateway, prefix: "/api/v1" });
  await app.register(readingsRoutes, { gateway, prefix: "/api/v1" });
  await app.register(streamRoutes, { gateway, stream, slots, prefix: "/api/v1" });
  await app.register(eventsRoutes, { gateway, stream, slots, prefix: "/api/v1" });
  await app.register(tokenRoutes, { tokens: options.auth.tokens, prefix: "/api/v1" });
  if (options.audit) await app.register(writeRoutes, { gateway, audit: options.audit, prefix: "/api/v1" });
  if (options.history)
    await app.register(historyRoutes, { gateway, history: options.history, prefix: "/api/v1" });
  if (options.north) await app.register(northRoutes, { north: options.north, prefix: "/api/v1" });
  await app.register(consoleRoutes, options.consoleRoot ? { root: options.consoleRoot } : {});
  const { config, registry } = options;
  if (config && registry)
    await app.register(configRoutes, { gateway, config, adapters: () => registry.list(), prefix: "/api/v1" });
  if (options.certificates?.length) {
    await app.register(certificateRoutes, { stores: options.certificates, prefix: "/api/v1" });
  }
  if (options.metrics) await app.register(metricsRoutes, { registry: options.metrics });
  return app;
}

/** The OpenAPI document of `app`, once every route is registered. */
export async function openApiDocument(app: FastifyInstance): Promise<OpenApiDocument> {
  await app.ready();
  return app.swagger() as OpenApiDocument;
}
