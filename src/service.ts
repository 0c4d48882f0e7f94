/**
 * A gateway service as `tagbridge run` starts it: config loaded and validated, adapters
 * registered, the gateway running, the HTTP service listening, and hot reload on file change and
 * SIGHUP (only changed devices restart; an invalid file is rejected and the running config stays).
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { ConfigManager, type Overrides } from "./config/manager.js";
import { maskedView } from "./config/masked-view.js";
import type { GatewayConfig } from "./config/schema.js";
import { type ConfigWatcher, watchConfig } from "./config/watch.js";
import { sharedDirOf } from "./core/device.js";
import { Gateway } from "./core/gateway.js";
import { AdapterRegistry } from "./core/registry.js";
import { type History, startHistory } from "./history/index.js";
import { type Listening, serveHttp } from "./http/serve.js";
import { createLogger } from "./log.js";
import { startNorth } from "./north/index.js";

export { InvalidConfig, loadGatewayConfig, type Overrides } from "./config/manager.js";

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

/** Waits for `work`, at most `ms`; calls `late` when the deadline passed first. */
async function withDeadline(work: Promise<unknown>, ms: number, late: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"late">((r) => {
    timer = setTimeout(() => r("late"), ms);
  });
  const outcome = await Promise.race([work.then(() => "done" as const), deadline]);
  clearTimeout(timer);
  if (outcome === "late") late();
}

/** Starts a gateway and its HTTP service from a config file. */
export async function startService(file: string, overrides: Overrides = {}, log?: Logger): Promise<Service> {
  const registry = new AdapterRegistry();
  let logger: Logger | undefined = log;
  let gateway: Gateway | undefined;
  let history: History | undefined;
  const manager = await ConfigManager.open(
    file,
    registry,
    overrides,
    () => logger!,
    (next) => {
      const prepared = gateway!.prepare(next.devices);
      return {
        problems: prepared.problems,
        commit: async () => {
          history?.setDevices(next.devices);
          await prepared.commit();
        },
      };
    },
  );
  const config = manager.current;
  logger ??= createLogger(config.log.level);
  gateway = new Gateway({
    id: config.gateway,
    dataDir: config.dataDir,
    devices: config.devices,
    registry,
    log: logger,
  });
  history = await startHistory(config.history, config.dataDir, gateway.bus, config.devices, logger);
  const running = gateway;
  const north = await startNorth(config.north ?? [], {
    gateway: config.gateway,
    dataDir: config.dataDir,
    bus: running.bus,
    log: logger,
    registry: running.metrics.registry,
    deviceState: (d) => running.device(d)?.state,
    sinks: registry.sinks,
  });
  gateway.start();
  let listening: Listening;
  try {
    const certificates = registry
      .list()
      .filter((d) => d.certificates)
      .map((d) => ({ type: d.type, store: d.certificates!(sharedDirOf(config.dataDir, d.type)) }));
    listening = await serveHttp(gateway, config, file, logger, {
      history,
      certificates,
      config: manager,
      registry,
      north,
      view: maskedView(running, {
        deviceIds: () => manager.current.devices.map((d) => d.id),
        substituted: () => manager.substituted,
      }),
    });
  } catch (error) {
    await gateway.stop();
    await north.close();
    await history?.close();
    throw error;
  }
  const { app, url } = listening;
  const watcher: ConfigWatcher = watchConfig(file, () => void manager.reload());

  return {
    gateway: running,
    app,
    get config() {
      return manager.current;
    },
    log: logger,
    url,
    ...(listening.adminTokenFile ? { adminTokenFile: listening.adminTokenFile } : {}),
    reload: async () => (await manager.reload()).ok,
    async close() {
      watcher.close();
      // Each step gets a share of the shutdown budget, so a hung device or client never keeps
      // the north buffers and history from being flushed.
      const budget = manager.current.shutdownTimeoutMs;
      await withDeadline(app.close(), budget / 4, () => logger!.warn("HTTP service did not close in time"));
      await withDeadline(running.stop(), budget / 2, () =>
        logger!.warn("devices did not stop in time; flushing north and history anyway"),
      );
      await north.close();
      await withDeadline(history?.close() ?? Promise.resolve(), budget / 4, () =>
        logger!.warn("history did not close in time"),
      );
    },
  };
}
