#!/usr/bin/env node
/**
 * The `tagbridge` command line: run a gateway, validate a config, start the demo.
 */
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { formatConfigErrors } from "../config/errors.js";
import { type GatewayConfig, LOG_LEVELS, type LogLevel } from "../config/schema.js";
import { installSafetyNet } from "../core/guard.js";
import { AdapterRegistry } from "../core/registry.js";
import { createLogger } from "../log.js";
import { packageRoot, packageVersion } from "../paths.js";
import { InvalidConfig, loadGatewayConfig, type Overrides, type Service, startService } from "../service.js";
import { registerSinkCommand } from "./scaffold/sink-command.js";
import { registerAdapterCommand } from "./scaffold.js";
import { type StartedSimulator, startDemoSimulators, startSimulator } from "./simulators.js";

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError("must be a port number 0-65535");
  return n;
}

function serviceOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option("--host <host>", "address the API binds to (overrides config)").env("TAGBRIDGE_HOST"),
    )
    .addOption(
      new Option("--port <port>", "port the API listens on (overrides config)")
        .env("TAGBRIDGE_PORT")
        .argParser(port),
    )
    .addOption(
      new Option("--data-dir <dir>", "directory for the gateway's files (overrides config)").env(
        "TAGBRIDGE_DATA_DIR",
      ),
    )
    .addOption(
      new Option("--log-level <level>", "log level (overrides config)")
        .choices(LOG_LEVELS)
        .env("TAGBRIDGE_LOG_LEVEL"),
    );
}

function overrides(opts: { host?: string; port?: number; dataDir?: string; logLevel?: LogLevel }): Overrides {
  const o: Overrides = {};
  if (opts.host !== undefined) o.host = opts.host;
  if (opts.port !== undefined) o.port = opts.port;
  if (opts.dataDir !== undefined) o.dataDir = resolve(opts.dataDir);
  if (opts.logLevel !== undefined) o.logLevel = opts.logLevel;
  return o;
}

/** Runs until SIGINT/SIGTERM, reloading on SIGHUP. */
async function serve(
  file: string,
  o: Overrides,
  banner?: (s: Service) => void,
  after?: () => Promise<unknown>,
): Promise<void> {
  let service: Service;
  installSafetyNet(createLogger(o.logLevel ?? "info")); // devices start inside startService
  try {
    service = await startService(file, o);
  } catch (error) {
    if (error instanceof InvalidConfig)
      console.error(`${error.message}\n${error.errors.length} error(s); nothing started.`);
    else if ((error as NodeJS.ErrnoException).code === "EADDRINUSE")
      console.error(`cannot listen: ${(error as Error).message}. Use --port to choose another port.`);
    else console.error(`cannot start: ${error instanceof Error ? error.message : error}`);
    process.exitCode = 1;
    return;
  }
  installSafetyNet(service.log);
  banner?.(service);
  process.on("SIGHUP", () => void service.reload());
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    service.log.info(`${signal}: shutting down`);
    const budget = service.config.shutdownTimeoutMs;
    const force = setTimeout(() => {
      service.log.error(`shutdown took longer than ${budget} ms (shutdownTimeoutMs); exiting now`);
      service.log.flush?.();
      process.exit(1);
    }, budget).unref();
    service
      .close()
      .then(after)
      .then(
        () => {
          clearTimeout(force);
          service.log.flush?.();
          process.exit(0);
        },
        (error) => {
          service.log.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

function demoBanner(s: Service, simulators: StartedSimulator[]): void {
  const u = s.url;
  const ws = u.replace(/^http/, "ws");
  // The demo's own token, printed so a first try needs no copying of files: demo data only.
  const tokenFile = join(s.config.dataDir, "admin-token");
  const token = existsSync(tokenFile) ? readFileSync(tokenFile, "utf8").trim() : undefined;
  console.log(
    [
      "",
      `tagbridge demo is running: gateway '${s.config.gateway}' with ${s.config.devices.length} simulated devices.`,
      ...simulators.map((sim) => `  ${`${sim.type} simulator`.padEnd(18)}${sim.url}`),
      `  web console       ${u}/`,
      `  latest readings   ${u}/api/v1/readings/latest`,
      `  devices           ${u}/api/v1/devices`,
      `  reading schema    ${u}/api/v1/schema/reading`,
      `  API docs          ${u}/docs`,
      `  live (WebSocket)  ${ws}/api/v1/stream?device=press-1`,
      `  live (SSE)        curl -N ${u}/api/v1/events`,
      `Reading needs no token from this machine (auth.anonymous: loopback-viewer); writes and admin calls do.`,
      ...(token
        ? [`Signed in as admin (the demo's token, kept in ${tokenFile}):`, `  ${u}/#access_token=${token}`]
        : [`The admin token file ${tokenFile} is gone; create a token with POST /api/v1/tokens.`]),
      "Press Ctrl+C to stop.",
      "",
    ].join("\n"),
  );
}

const program = new Command("tagbridge")
  .description("Industrial device gateway: OPC UA, Modbus and MQTT into one Reading schema")
  .version(packageVersion(), "-v, --version");

serviceOptions(program.command("run").description("run a gateway from a config file"))
  .requiredOption("-c, --config <file>", "gateway config file (YAML)")
  .action(async (opts) => serve(resolve(opts.config), overrides(opts)));

serviceOptions(
  program.command("demo").description("run the demo gateway with simulated Modbus, OPC UA and MQTT devices"),
).action(async (opts) => {
  const o = overrides(opts);
  o.dataDir ??= join(tmpdir(), "tagbridge-demo");
  let simulators: StartedSimulator[];
  try {
    simulators = await startDemoSimulators(new AdapterRegistry(), o.dataDir);
  } catch (error) {
    console.error(`cannot start the demo's simulators: ${error instanceof Error ? error.message : error}`);
    process.exitCode = 1;
    return;
  }
  await serve(
    join(packageRoot(), "config", "demo.yaml"),
    o,
    (s) => demoBanner(s, simulators),
    () => Promise.all(simulators.map((sim) => sim.stop())),
  );
  if (process.exitCode) await Promise.all(simulators.map((sim) => sim.stop()));
});

program
  .command("simulate")
  .description("run a simulated device of an adapter type (modbus, opcua, mqtt) to try a config against")
  .argument("<type>", "adapter type")
  .addOption(
    new Option("--port <port>", "port to listen on (default: the protocol's demo port)").argParser(port),
  )
  .addOption(new Option("--data-dir <dir>", "directory for the simulator's files").env("TAGBRIDGE_DATA_DIR"))
  .action(async (type: string, opts: { port?: number; dataDir?: string }) => {
    let sim: StartedSimulator;
    try {
      sim = await startSimulator(
        new AdapterRegistry(),
        type,
        resolve(opts.dataDir ?? join(tmpdir(), "tagbridge-simulators")),
        opts.port,
      );
    } catch (error) {
      console.error(`cannot start the ${type} simulator: ${error instanceof Error ? error.message : error}`);
      process.exitCode = 1;
      return;
    }
    console.log(`${type} simulator listening at ${sim.url}. Press Ctrl+C to stop.`);
    const stop = () =>
      void sim.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });

program
  .command("validate")
  .description("check a config file; prints every error with its path and exits 1 when invalid")
  .argument("<file>", "gateway config file (YAML)")
  .action(async (file: string) => {
    let config: GatewayConfig;
    try {
      config = await loadGatewayConfig(resolve(file), new AdapterRegistry());
    } catch (error) {
      if (error instanceof InvalidConfig)
        console.error(
          `${formatConfigErrors(file, error.errors)}\n${error.errors.length} error(s) in ${file}`,
        );
      else console.error(`${file}: ${error instanceof Error ? error.message : error}`);
      process.exitCode = 1;
      return;
    }
    const points = config.devices.reduce((n, d) => n + d.points.length, 0);
    console.log(
      `${file}: valid (gateway '${config.gateway}', ${config.devices.length} devices, ${points} points)`,
    );
  });

registerAdapterCommand(program);
registerSinkCommand(program);

await program.parseAsync(process.argv);
