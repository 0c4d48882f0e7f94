/**
 * The console plugin on the real app (`buildApp`): files are public, cached right and carry a CSP
 * the bundle runs under; the API next to it still needs a token; an unbuilt console says so.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleCsp, consoleRoutes } from "../../src/http/routes/console.js";
import { apiFixture } from "../helpers/service.js";

/** A fake build: an index and one hashed asset, so this test needs no `vite build`. */
function fakeBuild(): string {
  const root = mkdtempSync(join(tmpdir(), "tagbridge-console-"));
  mkdirSync(join(root, "assets"));
  writeFileSync(
    join(root, "index.html"),
    '<!doctype html><script type="module" src="./assets/index-abc123.js"></script>',
  );
  writeFileSync(join(root, "assets", "index-abc123.js"), "export {};\n");
  return root;
}

describe("console plugin", () => {
  let f: Awaited<ReturnType<typeof apiFixture>>;
  let app: FastifyInstance;

  beforeAll(async () => {
    f = await apiFixture(undefined, { consoleRoot: fakeBuild() });
    app = f.app;
    await app.ready();
  });
  afterAll(() => f.close());

  it("serves index.html at / without a token, revalidated on every load, under the console's CSP", async () => {
    const res = await app.inject({ url: "/" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.body).toContain("./assets/index-abc123.js");
    expect(res.headers["cache-control"]).toBe("no-cache");
    expect(res.headers.etag).toBeTruthy();
    expect(res.headers["content-security-policy"]).toBe(consoleCsp(false));
    expect(res.headers["x-content-type-options"]).toBe("nosniff"); // helmet's other headers stay
    const again = await app.inject({ url: "/", headers: { "if-none-match": String(res.headers.etag) } });
    expect(again.statusCode).toBe(304);
  });

  it("allows no inline script, and asks for the HTTPS upgrade only over HTTPS", () => {
    for (const https of [false, true]) {
      const csp = consoleCsp(https);
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).not.toContain("unsafe-eval");
      expect(csp.includes("upgrade-insecure-requests")).toBe(https);
    }
  });

  it("serves hashed assets publicly with a year of immutable caching", async () => {
    const res = await app.inject({ url: "/assets/index-abc123.js" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/javascript/);
    expect(res.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
  });

  it("answers a missing asset with the coded 404, and never serves outside its folder", async () => {
    const missing = await app.inject({ url: "/assets/nope.js" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("TB_ERR_ROUTE_NOT_FOUND");
    for (const url of [
      "/assets/../../package.json",
      "/assets/%2e%2e/%2e%2e/package.json",
      "/assets/..%2f..%2fpackage.json",
    ]) {
      const res = await app.inject({ url });
      expect([400, 403, 404], url).toContain(res.statusCode);
      expect(res.body, url).not.toContain('"name": "tagbridge"');
    }
  });

  it("declares its routes public and leaves the API behind the token", async () => {
    const mine = app.routeTable.filter(
      (r) => r.url === "/" || r.url.startsWith("/assets/") || r.url === "/index.html",
    );
    expect(mine.length).toBeGreaterThanOrEqual(3);
    for (const r of mine) expect(r.role, `${r.method} ${r.url}`).toBe("public");
    expect((await app.inject({ url: "/api/v1/devices" })).statusCode).toBe(401);
    const ok = await app.inject({
      url: "/api/v1/whoami",
      headers: { authorization: `Bearer ${f.tokens.viewer}` },
    });
    expect(ok.json()).toEqual({ name: "vic", role: "viewer" });
  });

  it("says how to build the console when it is not built", async () => {
    const bare = (await import("fastify")).default({ loggerInstance: pino({ level: "silent" }) });
    await bare.register(consoleRoutes, { root: mkdtempSync(join(tmpdir(), "tagbridge-empty-")) });
    const res = await bare.inject({ url: "/" });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain("npm run build");
    await bare.close();
  });
});
