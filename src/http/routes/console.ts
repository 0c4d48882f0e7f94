/**
 * The web console: the files `vite build` writes to `dist/console`, served at `/` and
 * `/assets/*`. They are public (the page holds no data); every API call the console makes carries
 * the user's token. `index.html` is revalidated on every load (ETag) so a new build shows at once;
 * the content-hashed files under `/assets/` are cached for a year.
 *
 * Register on the app from `buildApp`, after the security headers: `app.register(consoleRoutes)`.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { packageRoot } from "../../paths.js";

/** Options of {@link consoleRoutes}. */
export interface ConsoleRoutesOptions {
  /** Folder holding the built console (`index.html`, `assets/`); default `<package>/dist/console`. */
  root?: string;
}

/**
 * The console's Content-Security-Policy: its own files only, API calls and the WebSocket to this
 * origin, no inline script, no framing. Helmet's default adds `upgrade-insecure-requests`, which
 * makes a browser fetch the bundle over HTTPS from a gateway served plain on the network
 * (`http.plaintext: anywhere`, a container behind a port), so the page is served with this policy
 * instead, and the upgrade is only asked for when the page itself came over HTTPS.
 */
export function consoleCsp(https: boolean): string {
  return [
    "default-src 'self'",
    "base-uri 'self'",
    "connect-src 'self'",
    "font-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "img-src 'self' data:",
    "object-src 'none'",
    "script-src 'self'",
    "script-src-attr 'none'",
    // uPlot sizes its elements through element.style (CSSOM), which CSP does not restrict.
    "style-src 'self'",
    ...(https ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
}

const NOT_BUILT =
  "The tagbridge web console is not built in this installation: run `npm run build`.\n" +
  "The API is at /api/v1 (documentation at /docs).\n";

const publicRoute = { config: { role: "public" as const }, schema: { hide: true } };

export const consoleRoutes: FastifyPluginAsync<ConsoleRoutesOptions> = async (app, options) => {
  const root = options.root ?? join(packageRoot(), "dist", "console");
  if (!existsSync(join(root, "index.html"))) {
    app.log.warn(`web console not built (${root}/index.html missing): run \`npm run build\``);
    app.get("/", publicRoute, async (_request, reply) =>
      reply.code(503).type("text/plain; charset=utf-8").header("cache-control", "no-store").send(NOT_BUILT),
    );
    return;
  }
  // serve: false: this plugin declares the routes itself, each with its role and cache policy.
  await app.register(fastifyStatic, {
    root,
    serve: false,
    cacheControl: false,
    etag: true,
    lastModified: true,
  });

  const index = (request: FastifyRequest, reply: FastifyReply) =>
    reply
      .header("content-security-policy", consoleCsp(request.protocol === "https"))
      .header("cache-control", "no-cache")
      .sendFile("index.html");
  app.get("/", publicRoute, index);
  app.get("/index.html", publicRoute, index);

  app.get<{ Params: { "*": string } }>("/assets/*", publicRoute, (request, reply) =>
    reply
      .header("cache-control", "public, max-age=31536000, immutable")
      .sendFile(request.params["*"], join(root, "assets")),
  );
};
