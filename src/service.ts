/**
 * A gateway service as `tagbridge run` starts it: config loaded and validated, adapters
 * registered, the gateway running, the HTTP service listening, and hot reload on file change and
 * SIGHUP (only changed devices restart; an invalid file is rejected and the running config stays).
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { ConfigError } from "./config/errors.js";
import { formatConfigErrors } from "./config/errors.js";
import { loadConfig } from "./config/load.js";
import type { GatewayConfig, LogLevel } from "./config/schema.js";
import { type ConfigWatcher, watchConfig } from "./config/watch.js";
import { sharedDirOf } from "./core/device.js";
import { Gateway } from "./core/gateway.js";
import { AdapterRegistry } from "./core/registry.js";
import { startHistory } from "./history/index.js";
import { type Listening, serveHttp } from "./http/serve.js";
import { createLogger } from "./log.js";

/** Values from flags or the environment that win over the config file. */
export interface Overrides {
  host?: string;
  port?: number;
  dataDir?: string;
  logLevel?: LogLevel;
}

/** Raised when the config file is invalid; carries every error. */
export class InvalidConfig extends Error {
  constructor(
    readonly file: string,
    readonly errors: ConfigError[],
  ) {
    super(formatConfigErrors(file, errors));
  }
}

/** A running service. */
export interface Service {
  gateway: Gateway;
  app: FastifyInstance;
  config: GatewayConfig;
  log: Logger;
  /** Base URL the API listens on. */
  url: string;
  /** Set on a first start: the file holding the admin token just created. */
  adminTokenFile?: string;
  /** Re-reads the config file and applies it; resolves to false when it was invalid. */
  reload(): Promise<boolean>;
  close(): Promise<void>;
}

/** Loads a config file (third-party adapter packages included) and validates it. */
export async function loadGatewayConfig(
  file: string,
  registry: AdapterRegistry,
  overrides: Overrides = {},
): Promise<GatewayConfig> {
  const result = await loadConfig(file, (type) => registry.get(type), {
    knownTypes: () => registry.list().map((d) => d.type),
    loadAdapters: (packages) => registry.load(packages),
  });
  if (!result.ok) throw new InvalidConfig(file, result.errors);
  const c = result.config;
  if (overrides.host !== undefined) c.http.host = overrides.host;
  if (overrides.port !== undefined) c.http.port = overrides.port;
  if (overrides.dataDir !== undefined) c.dataDir = overrides.dataDir;
  if (overrides.logLevel !== undefined) c.log.level = overrides.logLevel;
  return c;
}

/** Starts a gateway and its HTTP service from a config file. */
export async function startService(file: string, overrides: Overrides = {}, log?: Logger): Promise<Service> {
  const registry = new AdapterRegistry();
  let config = await loadGatewayConfig(file, registry, overrides);
  const logger = log ?? createLogger(config.log.level);
  const gateway = new Gateway({
    id: config.gateway,
    dataDir: config.dataDir,
    devices: config.devices,
    registry,
    log: logger,
  });
  const history = startHistory(config.history, config.dataDir, gateway.bus, config.devices, logger);
  gateway.start();
  let listening: Listening;
  try {
    const certificates = registry
      .list()
      .filter((d) => d.certificates)
      .map((d) => ({ type: d.type, store: d.certificates!(sharedDirOf(config.dataDir, d.type)) }));
    listening = await serveHttp(gateway, config, file, logger, history?.store, certificates);
  } catch (error) {
    await gateway.stop();
    history?.close();
    throw error;
  }
  const { app, url } = listening;

  let reloading: Promise<boolean> = Promise.resolve(true);
  const reload = () => {
    reloading = reloading.then(async () => {
      let next: GatewayConfig;
      try {
        next = await loadGatewayConfig(file, registry, overrides);
      } catch (error) {
        logger.error(
          `config reload rejected, the running configuration stays:\n${error instanceof Error ? error.message : error}`,
        );
        return false;
      }
      for (const key of ["gateway", "dataDir", "http", "auth", "history", "adapters"] as const) {
        if (JSON.stringify(next[key]) !== JSON.stringify(config[key]))
          logger.warn(`config '${key}' changed: takes effect after a restart`);
      }
      logger.level = next.log.level;
      history?.setDevices(next.devices);
      await gateway.apply(next.devices);
      const kept = {
        gateway: config.gateway,
        dataDir: config.dataDir,
        http: config.http,
        auth: config.auth,
        history: config.history,
      };
      config = { ...next, ...kept };
      return true;
    });
    return reloading;
  };
  const watcher: ConfigWatcher = watchConfig(file, () => void reload());

  return {
    gateway,
    app,
    get config() {
      return config;
    },
    log: logger,
    url,
    ...(listening.adminTokenFile ? { adminTokenFile: listening.adminTokenFile } : {}),
    reload,
    async close() {
      watcher.close();
      await app.close();
      await gateway.stop();
      history?.close();
    },
  };
}
