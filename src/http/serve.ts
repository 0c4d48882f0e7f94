/**
 * Starts the HTTP service of a configured gateway: refuses plain HTTP off loopback unless the
 * config says so, loads TLS material, opens the token store (creating the first admin token on a
 * first start) and the audit log, then listens.
 */
import { chmodSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { isIP } from "node:net";
import { dirname, join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { AuditLog } from "../core/audit.js";
import type { Gateway } from "../core/gateway.js";
import type { GatewayView } from "../core/types.js";
import type { HistoryReader } from "../history/types.js";
import { type AppOptions, buildApp } from "./app.js";
import { ensureAdminToken, TokenStore } from "./auth/tokens.js";
import type { AuthConfig, HttpConfig } from "./config.js";

/** A listening HTTP service. */
export interface Listening {
  app: FastifyInstance;
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Set on a first start: the file holding the admin token just created. */
  adminTokenFile?: string;
}

/** Whether `host` only ever reaches this machine. */
export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

/**
 * The data directory holds tokens, buffered readings and history: the owner's only. One created
 * by an older version (0755) is tightened, and the log says so.
 */
function tightenDataDir(dataDir: string, logger: Logger): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const mode = statSync(dataDir).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  try {
    chmodSync(dataDir, 0o700);
    logger.info(`data directory ${dataDir} was ${mode.toString(8)}; now 700 (owner only)`);
  } catch (error) {
    logger.warn({ err: error }, `data directory ${dataDir} is ${mode.toString(8)} and cannot be made 700`);
  }
}

/** Listens as configured; `configFile` anchors relative TLS paths. */
export async function serveHttp(
  gateway: Gateway,
  config: { http: HttpConfig; auth: AuthConfig; dataDir: string },
  configFile: string,
  logger: Logger,
  extras: Pick<AppOptions, "certificates" | "config" | "registry" | "north"> & {
    history?: HistoryReader | undefined;
    /** What the API shows of the gateway (e.g. with substituted secrets masked); the gateway itself by default. */
    view?: GatewayView;
  } = {},
): Promise<Listening> {
  const { http } = config;
  if (!http.tls && !isLoopback(http.host)) {
    if (http.plaintext !== "anywhere") {
      throw new Error(
        `refusing plain HTTP on ${http.host}: set http.tls (certFile, keyFile) to serve HTTPS, or http.plaintext: anywhere to accept unencrypted traffic on the network`,
      );
    }
    logger.warn(
      `HTTP API is served unencrypted on ${http.host}: tokens and data cross the network in clear text (http.plaintext: anywhere)`,
    );
  }
  const base = dirname(configFile);
  const https = http.tls
    ? {
        cert: readFileSync(resolve(base, http.tls.certFile)),
        key: readFileSync(resolve(base, http.tls.keyFile)),
      }
    : undefined;
  tightenDataDir(config.dataDir, logger);
  const tokens = TokenStore.open(join(config.dataDir, "tokens.json"));
  const adminTokenFile = ensureAdminToken(tokens, config.dataDir);
  if (adminTokenFile)
    logger.warn(`first start: created an admin API token; it is in ${adminTokenFile} (mode 0600)`);
  if (config.auth.anonymous === "loopback-viewer")
    logger.info("callers on loopback may read without a token (auth.anonymous: loopback-viewer)");
  const app = await buildApp({
    gateway: extras.view ?? gateway,
    logger,
    auth: { tokens, anonymous: config.auth.anonymous },
    audit: new AuditLog(join(config.dataDir, "audit.jsonl")),
    metrics: gateway.metrics.registry,
    limits: http,
    ...(extras.history ? { history: extras.history } : {}),
    ...(extras.certificates ? { certificates: extras.certificates } : {}),
    ...(extras.config ? { config: extras.config } : {}),
    ...(extras.registry ? { registry: extras.registry } : {}),
    ...(extras.north ? { north: extras.north } : {}),
    ...(https ? { https } : {}),
  });
  await app.listen({ host: http.host, port: http.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : http.port;
  const host = http.host.includes(":") ? `[${http.host}]` : http.host;
  return {
    app,
    url: `${https ? "https" : "http"}://${host}:${port}`,
    ...(adminTokenFile ? { adminTokenFile } : {}),
  };
}
