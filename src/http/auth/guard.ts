/**
 * The access check every request passes: each route declares the role it needs in its config
 * (`config: { role }`); a route that declares none needs `admin`, so a forgotten declaration fails
 * closed. Tokens come as `Authorization: Bearer …`, or as `?access_token=` on routes that allow it
 * (WebSocket and EventSource clients in browsers cannot set headers).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { fail } from "../errors.js";
import { type Principal, type Role, roleAtLeast, type TokenStore } from "./tokens.js";

/** What a route needs: a role, or nothing (`public`). */
export type Access = Role | "public";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Role a caller needs; `public` for none. Routes without it need `admin`. */
    role?: Access;
    /** Whether the token may also come as `?access_token=` (stream routes). */
    queryToken?: boolean;
  }
  interface FastifyRequest {
    /** Who made the request, once authenticated; anonymous loopback viewers are `anonymous`. */
    principal?: Principal;
  }
}

/** How callers are authenticated. */
export interface AuthOptions {
  tokens: TokenStore;
  /** `loopback-viewer` lets callers on 127.0.0.1/::1 read without a token. Default `none`. */
  anonymous?: "none" | "loopback-viewer";
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

function presentedToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) return /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? "";
  if (!request.routeOptions.config.queryToken) return undefined;
  const query = request.query as Record<string, unknown> | undefined;
  const token = query?.access_token;
  if (query) delete query.access_token; // not part of the route's own query schema
  return typeof token === "string" ? token : undefined;
}

/**
 * Installs the check on every route registered from now on (call it before any route). It runs as
 * a route hook, after the rate limit's own, so requests without a valid token are counted too.
 */
export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  app.decorateRequest("principal", undefined);
  const check = async (request: FastifyRequest, reply: FastifyReply) => {
    const needed: Access = request.routeOptions.config.role ?? "admin";
    if (needed === "public") return;
    const token = presentedToken(request);
    const principal =
      token !== undefined
        ? options.tokens.verify(token)
        : options.anonymous === "loopback-viewer" && LOOPBACK.test(request.ip)
          ? ({ name: "anonymous", role: "viewer" } as const)
          : undefined;
    if (!principal) {
      reply.header("www-authenticate", 'Bearer realm="tagbridge"');
      fail("TB_ERR_UNAUTHORIZED", [
        { field: "authorization", message: token === undefined ? "no token" : "unknown token" },
      ]);
    }
    request.principal = principal; // who asked, also for the audit of a refused write
    if (!roleAtLeast(principal.role, needed)) {
      fail("TB_ERR_FORBIDDEN", [
        {
          field: "authorization",
          message: `needs role ${needed}, token '${principal.name}' has ${principal.role}`,
        },
      ]);
    }
  };
  app.addHook("onRoute", (route) => {
    route.onRequest = [route.onRequest ?? []].flat().concat(check);
  });
}
