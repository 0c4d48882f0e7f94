/**
 * The one table of HTTP error codes. Codes are a public contract: clients branch on `code`, never on
 * `message`, so a code is never renamed or reused. Every error body has the same shape,
 * `{ error: { code, message, details? } }`, produced only by the handlers installed here.
 */
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
} from "fastify";
import Type, { type Static, type TSchema } from "typebox";
import { RequestRefused } from "../core/device.js";

/** Every error the HTTP API returns. Exported so the docs table is generated from it. */
export const ERROR_CODES = {
  TB_ERR_BAD_REQUEST: {
    status: 400,
    message: "request validation failed",
    description:
      "A path parameter or query parameter is missing, unknown or malformed; `details` names the field.",
  },
  TB_ERR_BODY_TOO_LARGE: {
    status: 413,
    message: "request body too large",
    description: "The body is larger than `http.bodyLimitBytes`.",
  },
  TB_ERR_URL_TOO_LONG: {
    status: 414,
    message: "request URL too long",
    description: "The request line is longer than the gateway accepts (8 KiB), or a path segment is.",
  },
  TB_ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: "unsupported media type",
    description: "Request bodies are JSON: send `Content-Type: application/json`.",
  },
  TB_ERR_HEADERS_TOO_LARGE: {
    status: 431,
    message: "request headers too large",
    description: "The request's headers are larger than the gateway accepts (16 KiB in all).",
  },
  TB_ERR_REQUEST_TIMEOUT: {
    status: 408,
    message: "request timeout",
    description: "The client did not send the whole request within `http.requestTimeoutMs`.",
  },
  TB_ERR_HOST_NOT_ALLOWED: {
    status: 403,
    message: "host not allowed",
    description:
      "The `Host` header is not an IP address, `localhost` or one of `http.allowedHosts` (checked on WebSocket handshakes, and on every request with `auth.anonymous: loopback-viewer`).",
  },
  TB_ERR_ORIGIN_NOT_ALLOWED: {
    status: 403,
    message: "origin not allowed",
    description:
      "The browser `Origin` is neither the gateway's own nor one of `http.cors.origins` (checked like the host).",
  },
  TB_ERR_UNAUTHORIZED: {
    status: 401,
    message: "authentication required",
    description: "No token, or an unknown one. Send `Authorization: Bearer <token>`.",
  },
  TB_ERR_FORBIDDEN: {
    status: 403,
    message: "not allowed for this token's role",
    description: "The token is valid but its role (viewer < operator < admin) is below what the route needs.",
  },
  TB_ERR_TOKEN_EXISTS: {
    status: 409,
    message: "a token with this name exists",
    description: "Token names are unique; revoke the old one first or pick another name.",
  },
  TB_ERR_TOKEN_NOT_FOUND: {
    status: 404,
    message: "token not found",
    description: "No API token has this name.",
  },
  TB_ERR_CERTIFICATE_NOT_FOUND: {
    status: 404,
    message: "certificate not found",
    description: "No certificate with this thumbprint in the list the request acts on.",
  },
  TB_ERR_DEVICE_NOT_FOUND: {
    status: 404,
    message: "device not found",
    description: "No device with this id is configured.",
  },
  TB_ERR_POINT_NOT_FOUND: {
    status: 404,
    message: "point not found",
    description: "The device has no point with this id.",
  },
  TB_ERR_ROUTE_NOT_FOUND: {
    status: 404,
    message: "route not found",
    description: "No route matches this method and path.",
  },
  TB_ERR_UPGRADE_REQUIRED: {
    status: 426,
    message: "websocket upgrade required",
    description: "A WebSocket route was called without an `Upgrade: websocket` handshake.",
  },
  TB_ERR_POINT_NOT_WRITABLE: {
    status: 409,
    message: "point is not writable",
    description: "The point has `access: read`; only `access: readwrite` points accept writes.",
  },
  TB_ERR_INVALID_VALUE: {
    status: 422,
    message: "value refused",
    description: "The value does not fit the point's type, or is outside its `min`/`max`.",
  },
  TB_ERR_IDEMPOTENCY_CONFLICT: {
    status: 409,
    message: "idempotency key reused with another request",
    description: "An `Idempotency-Key` already used for a different write; use a new key.",
  },
  TB_ERR_ALREADY_EXISTS: {
    status: 409,
    message: "already exists",
    description: "A device or point with this id exists; use PUT to replace it.",
  },
  TB_ERR_CONFIG_INVALID: {
    status: 422,
    message: "configuration invalid",
    description:
      "The change (or the file, on reload) fails validation; `details` lists every error with its path. Nothing was changed.",
  },
  TB_ERR_NOT_SUPPORTED: {
    status: 404,
    message: "not supported by this device's adapter",
    description:
      "The device's adapter does not offer this (e.g. browse on a Modbus device, a plan of a push adapter).",
  },
  TB_ERR_DEVICE_NOT_CONNECTED: {
    status: 503,
    message: "device not connected",
    description: "The request needs the device, and it is not connected now; nothing is queued for later.",
  },
  TB_ERR_DEVICE_ERROR: {
    status: 502,
    message: "the device failed the request",
    description: "The device (or its protocol library) answered the request with an error; `details` has it.",
  },
  TB_ERR_TOO_MANY_STREAMS: {
    status: 503,
    message: "too many stream clients",
    description: "The gateway already serves `http.maxStreamClients` WebSocket/SSE clients; retry later.",
  },
  TB_ERR_RATE_LIMITED: {
    status: 429,
    message: "too many requests",
    description: "This client address exceeded `http.rateLimit`; retry after the `retry-after` seconds.",
  },
  TB_ERR_NOT_READY: {
    status: 503,
    message: "gateway not ready",
    description: "Not every enabled device has made its first connection attempt yet.",
  },
  TB_ERR_INTERNAL: {
    status: 500,
    message: "internal error",
    description: "An unexpected failure; the gateway log has the cause.",
  },
} as const satisfies Record<string, { status: number; message: string; description: string }>;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The code table as rows, in declaration order, for documentation. */
export function errorCodeTable(): {
  code: ErrorCode;
  status: number;
  message: string;
  description: string;
}[] {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => ({ code, ...ERROR_CODES[code] }));
}

const ErrorDetailSchema = Type.Object(
  {
    field: Type.String({
      description: "Where the problem is, e.g. `querystring/device` or `params/device`.",
    }),
    message: Type.String({ description: "What is wrong with it." }),
  },
  { additionalProperties: false },
);

/** One detail of an error: which field and what is wrong. */
export type ErrorDetail = Static<typeof ErrorDetailSchema>;

/** The body of every error response. */
export const ErrorResponseSchema = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.Enum(Object.keys(ERROR_CODES) as ErrorCode[], {
          description: "Stable error code; see the error code table.",
        }),
        message: Type.String({ description: "Human-readable summary; may change between versions." }),
        details: Type.Optional(Type.Array(ErrorDetailSchema)),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** The body of every error response. */
export type ErrorResponse = Static<typeof ErrorResponseSchema>;

/**
 * Response schemas for the given codes, keyed by status; the description lists the codes, so the
 * OpenAPI document says which codes a route can return. TB_ERR_INTERNAL is always included.
 */
export function errorResponses(...codes: ErrorCode[]): Record<number, TSchema> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set<ErrorCode>([...codes, "TB_ERR_INTERNAL"])) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<number, TSchema> = {};
  for (const [status, list] of byStatus)
    out[status] = { ...ErrorResponseSchema, description: list.join(", ") };
  return out;
}

/** An error carrying a stable code; thrown by routes through {@link fail}. */
export class CodedError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly details?: ErrorDetail[],
    message: string = ERROR_CODES[code].message,
  ) {
    super(message);
    this.name = "CodedError";
    this.status = ERROR_CODES[code].status;
  }
}

/** Throws a coded error; the error handler turns it into the coded response. */
export function fail(code: ErrorCode, details?: ErrorDetail[]): never {
  throw new CodedError(code, details);
}

function body(code: ErrorCode, message: string, details?: ErrorDetail[]): ErrorResponse {
  return { error: details?.length ? { code, message, details } : { code, message } };
}

/** Maps Fastify's validation errors (ajv) to `field: message` details. */
function validationDetails(error: FastifyError): ErrorDetail[] {
  const context = error.validationContext ?? "request";
  return (error.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>;
    const extra = params.additionalProperty ?? params.missingProperty;
    const field = `${context}${v.instancePath}${typeof extra === "string" ? `/${extra}` : ""}`;
    return { field, message: v.message ?? "is invalid" };
  });
}

/** The code a gateway refusal is answered with. */
export function refusalCode(error: RequestRefused): ErrorCode {
  return REFUSALS[error.reason];
}

const REFUSALS: Record<RequestRefused["reason"], ErrorCode> = {
  UnknownDevice: "TB_ERR_DEVICE_NOT_FOUND",
  UnknownPoint: "TB_ERR_POINT_NOT_FOUND",
  NotConnected: "TB_ERR_DEVICE_NOT_CONNECTED",
  Unsupported: "TB_ERR_NOT_SUPPORTED",
  NotWritable: "TB_ERR_POINT_NOT_WRITABLE",
  InvalidValue: "TB_ERR_INVALID_VALUE",
};

/** Turns an adapter's own failure into a coded 502; its message names what the device said. */
export function deviceFailure(error: unknown): never {
  if (error instanceof RequestRefused || error instanceof CodedError) throw error;
  throw new CodedError("TB_ERR_DEVICE_ERROR", [
    { field: "device", message: error instanceof Error ? error.message : String(error) },
  ]);
}

/** The code of a framework client error, by its status; anything else is a plain bad request. */
const CLIENT_ERRORS: Partial<Record<number, ErrorCode>> = {
  408: "TB_ERR_REQUEST_TIMEOUT",
  413: "TB_ERR_BODY_TOO_LARGE",
  414: "TB_ERR_URL_TOO_LONG",
  415: "TB_ERR_UNSUPPORTED_MEDIA_TYPE",
  431: "TB_ERR_HEADERS_TOO_LARGE",
};

/** The coded body of an error (for the layers that answer without the error handler). */
export function errorBody(code: ErrorCode, details?: ErrorDetail[]): ErrorResponse {
  return body(code, ERROR_CODES[code].message, details);
}

/** Fastify's router errors (a bad `%` encoding, an over-long path segment), answered in the coded shape. */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const code = error.code === "FST_ERR_MAX_PARAM_LENGTH" ? "TB_ERR_URL_TOO_LONG" : "TB_ERR_BAD_REQUEST";
  const details = [{ field: "url", message: error.message.slice(0, 300) }];
  return reply.code(ERROR_CODES[code].status).send(errorBody(code, details));
}

function handleError(
  this: FastifyInstance,
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (error instanceof CodedError) {
    return reply.code(error.status).send(body(error.code, error.message, error.details));
  }
  if (error instanceof RequestRefused) {
    const code = REFUSALS[error.reason];
    return reply
      .code(ERROR_CODES[code].status)
      .send(body(code, ERROR_CODES[code].message, [{ field: "request", message: error.message }]));
  }
  if (error.validation) {
    return reply
      .code(400)
      .send(body("TB_ERR_BAD_REQUEST", ERROR_CODES.TB_ERR_BAD_REQUEST.message, validationDetails(error)));
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    // Fastify's own client errors (bad URL, malformed or oversized body): coded, with their reason.
    const code = CLIENT_ERRORS[status] ?? "TB_ERR_BAD_REQUEST";
    const details = [{ field: "request", message: error.message.slice(0, 300) }];
    return reply.code(ERROR_CODES[code].status).send(body(code, ERROR_CODES[code].message, details));
  }
  request.log.error({ err: error, url: request.url }, "request failed");
  return reply.code(500).send(body("TB_ERR_INTERNAL", ERROR_CODES.TB_ERR_INTERNAL.message));
}

/** Hooks run before an unknown route is answered (the rate limit). */
export interface NotFoundHooks {
  preHandler?: preHandlerAsyncHookHandler;
}

/**
 * Installs the error handler and, unless `notFound` is false (to install it later with
 * {@link registerNotFound}), the not-found handler on the root instance; every plugin inherits them.
 */
export function registerErrorHandling(app: FastifyInstance, notFound: NotFoundHooks | false = {}): void {
  app.setErrorHandler(handleError);
  if (notFound) registerNotFound(app, notFound);
}

/** Installs the coded 404 for unknown routes; `hooks` run first. */
export function registerNotFound(app: FastifyInstance, hooks: NotFoundHooks = {}): void {
  app.setNotFoundHandler(hooks, (request, reply) => {
    const details = [
      { field: "url", message: `no route for ${request.method} ${request.url.split("?")[0]?.slice(0, 200)}` },
    ];
    return reply
      .code(404)
      .send(body("TB_ERR_ROUTE_NOT_FOUND", ERROR_CODES.TB_ERR_ROUTE_NOT_FOUND.message, details));
  });
}
