/**
 * Where a request claims to come from. A browser page on another site can open a WebSocket to the
 * gateway (browsers send no CORS preflight for it), and a page whose DNS name is rebound to the
 * gateway's address can read REST as if it were the gateway's own. Both are refused where they
 * matter: on every WebSocket handshake, and on every request when loopback callers need no token
 * (`auth.anonymous: loopback-viewer`), since then the browser's loopback position is the only key.
 *
 * - `Host` must name the gateway: an IP literal, `localhost`, or a name in `http.allowedHosts`.
 * - `Origin`, when sent, must be the gateway's own (the scheme and `Host` of the request) or one of
 *   `http.cors.origins`.
 */
import { isIP } from "node:net";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { fail } from "../errors.js";

/** What the check is built from. */
export interface OriginOptions {
  /** `loopback-viewer` checks every request; otherwise only WebSocket handshakes. */
  anonymous?: "none" | "loopback-viewer";
  /** Host names (no port) the gateway answers to besides IP literals and `localhost`. */
  allowedHosts?: readonly string[];
  /** Browser origins allowed besides the gateway's own (`http.cors.origins`). */
  corsOrigins?: readonly string[];
}

/** The host name of a `Host` header, without its port or IPv6 brackets; lower case. */
export function hostName(host: string): string {
  const lower = host.trim().toLowerCase();
  if (lower.startsWith("[")) return lower.slice(1, lower.indexOf("]") >>> 0);
  const colon = lower.lastIndexOf(":");
  return colon >= 0 && lower.indexOf(":") === colon ? lower.slice(0, colon) : lower;
}

/** Whether `host` (a `Host` header) names this gateway. */
export function hostAllowed(host: string, allowed: ReadonlySet<string>): boolean {
  const name = hostName(host);
  if (name === "") return false;
  return isIP(name) !== 0 || name === "localhost" || allowed.has(name.replace(/\.$/, ""));
}

function isWebSocket(request: FastifyRequest): boolean {
  return request.headers.upgrade?.toLowerCase() === "websocket";
}

/** Installs the check on the root instance; it runs before authentication. */
export function registerOriginCheck(app: FastifyInstance, options: OriginOptions): void {
  const hosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase().replace(/\.$/, "")));
  const origins = new Set(options.corsOrigins ?? []);
  const everyRequest = options.anonymous === "loopback-viewer";
  app.addHook("onRequest", async (request) => {
    if (!everyRequest && !isWebSocket(request)) return;
    const host = request.headers.host;
    // HTTP/1.0 may omit Host; a browser never does, so there is nothing to rebind.
    if (host !== undefined && !hostAllowed(host, hosts)) {
      fail("TB_ERR_HOST_NOT_ALLOWED", [
        { field: "headers/host", message: `'${host.slice(0, 200)}' is not a name of this gateway` },
      ]);
    }
    const origin = request.headers.origin;
    if (origin === undefined) return;
    if (origins.has(origin) || (host !== undefined && origin === `${request.protocol}://${host}`)) return;
    fail("TB_ERR_ORIGIN_NOT_ALLOWED", [
      { field: "headers/origin", message: `'${origin.slice(0, 200)}' is not allowed` },
    ]);
  });
}
