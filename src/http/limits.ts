/**
 * Limits enforced below the routes, answered in the same coded shape as every other error: the
 * request line and headers (Node's parser refuses them before Fastify sees the request, through
 * `clientError`), the URL length, and how deeply a JSON body may nest (deep nesting costs stack in
 * every layer that walks the body: the parser's prototype check, validation, config code).
 */
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";
import { CodedError, ERROR_CODES, type ErrorCode, errorBody, fail } from "./errors.js";

/** Longest request URL (path and query) accepted; longer ones are 414. */
export const MAX_URL_LENGTH = 8192;
/** Node's `maxHeaderSize` for the request line and headers together; beyond it 431 (or 414). */
export const MAX_HEADER_BYTES = 16_384;
/** Deepest nesting of arrays and objects in a JSON body; a config is a handful of levels deep. */
export const MAX_JSON_DEPTH = 64;

/** The nesting depth of a JSON text, brackets inside strings excepted; stops counting past `limit`. */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** Replaces the JSON body parser by one that refuses bodies nested deeper than {@link MAX_JSON_DEPTH}. */
export function registerJsonDepthLimit(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, text, done) => {
    const body = String(text);
    if (jsonDepth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      done(
        new CodedError("TB_ERR_BAD_REQUEST", [
          { field: "body", message: `nested deeper than ${MAX_JSON_DEPTH} levels` },
        ]),
        undefined,
      );
      return;
    }
    void parse(request, body, done); // callback style: it answers through done
  });
}

/** Refuses URLs longer than {@link MAX_URL_LENGTH} with 414, before anything else runs. */
export function registerUrlLimit(app: FastifyInstance): void {
  app.addHook("onRequest", async (request) => {
    if (request.url.length > MAX_URL_LENGTH)
      fail("TB_ERR_URL_TOO_LONG", [
        { field: "url", message: `${request.url.length} characters, at most ${MAX_URL_LENGTH}` },
      ]);
  });
}

/**
 * Whether Node's parser gave up still inside the request line: the chunk it was parsing starts with
 * a method and holds no line break before the point where it stopped, so the URL alone is too long.
 * (A request line spread over several chunks is reported as headers too large, still a 4xx.)
 */
function inRequestLine(raw: unknown, parsed: unknown): boolean {
  if (!Buffer.isBuffer(raw)) return false;
  const upTo = typeof parsed === "number" ? raw.subarray(0, parsed) : raw;
  return /^[A-Z]+ [^\r\n]*$/.test(upTo.toString("latin1"));
}

/** The code of a `clientError` from Node's HTTP parser. */
export function clientErrorCode(
  error: NodeJS.ErrnoException & { rawPacket?: unknown; bytesParsed?: unknown },
): ErrorCode {
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") return "TB_ERR_REQUEST_TIMEOUT";
  if (error.code === "HPE_HEADER_OVERFLOW")
    return inRequestLine(error.rawPacket, error.bytesParsed)
      ? "TB_ERR_URL_TOO_LONG"
      : "TB_ERR_HEADERS_TOO_LARGE";
  if (error.code === "HPE_URI_TOO_LONG") return "TB_ERR_URL_TOO_LONG";
  return "TB_ERR_BAD_REQUEST";
}

/**
 * Fastify's `clientErrorHandler`: requests Node's parser refused (malformed, headers or request line
 * too large, too slow) get the coded body, then the connection is closed.
 */
export function clientErrorHandler(this: FastifyInstance, error: Error, socket: Duplex): void {
  const err = error as NodeJS.ErrnoException;
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const code = clientErrorCode(err);
  const { status } = ERROR_CODES[code];
  const text = JSON.stringify(errorBody(code, [{ field: "request", message: err.code ?? err.message }]));
  this.log.debug({ err }, "client error");
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy(error);
}
