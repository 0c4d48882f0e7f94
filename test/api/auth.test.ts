/**
 * Walks the registered route table: every route declares a role, state-changing routes need
 * operator or admin, and each protected route answers 401 without a token and 403 below its role.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLES, roleAtLeast } from "../../src/http/auth/tokens.js";
import { type ApiFixture, apiFixture } from "../helpers/service.js";

let f: ApiFixture;
beforeAll(async () => {
  f = await apiFixture();
  await f.app.ready();
});
afterAll(() => f.close());

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const concrete = (url: string) =>
  url
    .replace(":device", "press-1")
    .replace(":point", "setpoint")
    .replace(":name", "nobody")
    .replace(":thumbprint", "ab".repeat(20))
    .replace("*", "index.html");

describe("route access", () => {
  it("every route declares its role; state-changing ones need operator or admin", () => {
    const routes = f.app.routeTable.filter((r) => r.method !== "HEAD" && r.method !== "OPTIONS");
    expect(routes.length).toBeGreaterThan(15);
    for (const r of routes) {
      expect(r.role, `${r.method} ${r.url}`).toBeDefined();
      if (STATE_CHANGING.has(r.method))
        expect(["operator", "admin"], `${r.method} ${r.url}`).toContain(r.role);
    }
    const publicRoutes = routes.filter((r) => r.role === "public").map((r) => r.url);
    const isPublic = (u: string) =>
      u === "/healthz" ||
      u === "/readyz" ||
      u.startsWith("/docs") ||
      u === "/" ||
      u === "/index.html" ||
      u.startsWith("/assets/");
    expect(publicRoutes.filter((u) => !isPublic(u))).toEqual([]);
  });

  it("answers 401 without a token and 403 below the route's role, and lets the right role through", async () => {
    let checked = 0;
    for (const r of f.app.routeTable) {
      if (r.role === "public" || r.role === undefined || r.method === "HEAD" || r.method === "OPTIONS")
        continue;
      const url = concrete(r.url);
      const method = r.method as "GET" | "POST" | "PUT" | "DELETE";
      const anonymous = await f.app.inject({ method, url });
      expect(anonymous.statusCode, `${method} ${url} without token`).toBe(401);
      expect(anonymous.json().error.code).toBe("TB_ERR_UNAUTHORIZED");
      expect(anonymous.headers["www-authenticate"]).toMatch(/^Bearer/);
      const bogus = await f.app.inject({ method, url, headers: { authorization: "Bearer tb_not-a-token" } });
      expect(bogus.statusCode, `${method} ${url} with a bogus token`).toBe(401);
      for (const role of ROLES) {
        // The SSE route never ends by itself: read its head only.
        const payloadAsStream = url.endsWith("/events");
        const res = await f.app.inject({
          method,
          url,
          payloadAsStream,
          headers: { authorization: `Bearer ${f.tokens[role]}` },
        });
        if (payloadAsStream) res.stream().destroy();
        if (roleAtLeast(role, r.role))
          expect([401, 403], `${method} ${url} as ${role}`).not.toContain(res.statusCode);
        else {
          expect(res.statusCode, `${method} ${url} as ${role}`).toBe(403);
          expect(res.json().error.code).toBe("TB_ERR_FORBIDDEN");
        }
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it("keeps health, readiness and the docs public", async () => {
    for (const url of ["/healthz", "/docs/json"]) expect((await f.app.inject(url)).statusCode, url).toBe(200);
    expect([200, 503]).toContain((await f.app.inject("/readyz")).statusCode);
  });

  it("streams accept the token as ?access_token= (browsers cannot set headers there), other routes do not", async () => {
    const sse = await f.app.inject({
      url: `/api/v1/events?device=press-1&access_token=${f.tokens.viewer}`,
      payloadAsStream: true,
    });
    expect(sse.statusCode).toBe(200);
    sse.stream().destroy();
    const rest = await f.app.inject(`/api/v1/devices?access_token=${f.tokens.viewer}`);
    expect(rest.statusCode).toBe(401);
  });

  it("tells a caller who they are", async () => {
    const res = await f.app.inject({
      url: "/api/v1/whoami",
      headers: { authorization: `Bearer ${f.tokens.operator}` },
    });
    expect(res.json()).toEqual({ name: "olga", role: "operator" });
  });
});
