/**
 * A NATS server with JetStream for tests, found or started in this order: `NATS_URL` from the
 * environment; the nats-server binary on a free loopback port (`-js -sd <tmpdir>`); a container
 * (nats:2.10-alpine, `-js`) through testcontainers when a container engine answers. This machine
 * has no container engine, so the binary is what runs here. `restart(downMs)` stops the server
 * and starts it again on the same port and store (an outage); `stopServer()` and `startServer()`
 * do the same in two steps, for a test that acts while it is down (binary only); `stop()` ends
 * what was started.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, stopChild, waitForPort } from "./process.js";

/** Where nats-server is installed on Debian. */
export const NATS_SERVER = ["/usr/sbin/nats-server", "/usr/bin/nats-server"].find((p) => existsSync(p));

/** A running NATS server. */
export interface NatsServer {
  kind: "env" | "binary" | "container";
  /** nats://127.0.0.1:PORT */
  url: string;
  /** http://127.0.0.1:PORT of the monitoring endpoint (`/varz`, `/connz`); binary only. */
  monitorUrl?: string;
  /** Stops and starts the server again on the same port and store. */
  restart(downMs?: number): Promise<void>;
  /**
   * Stops the server process, keeping its port and JetStream store for `startServer()`: every
   * connection drops and nothing listens. Idempotent. Binary only (throws otherwise).
   */
  stopServer(): Promise<void>;
  /** Starts the server again after `stopServer()`, same port and store; resolves once it listens. Idempotent. */
  startServer(): Promise<void>;
  /** Stops what was started; idempotent. */
  stop(): Promise<void>;
}

async function startBinary(): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), "tb-nats-"));
  const port = await freePort();
  const monitorPort = await freePort();
  let child: ChildProcess | undefined;
  const launch = async () => {
    if (child) return;
    child = spawn(
      NATS_SERVER!,
      ["-js", "-sd", dir, "-a", "127.0.0.1", "-p", String(port), "-m", String(monitorPort)],
      {
        stdio: "ignore",
      },
    );
    await waitForPort(port, "nats-server", 10_000);
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    await stopChild(c, 5_000);
  };
  try {
    await launch();
  } catch (error) {
    await kill();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    kind: "binary",
    url: `nats://127.0.0.1:${port}`,
    monitorUrl: `http://127.0.0.1:${monitorPort}`,
    async restart(downMs = 300) {
      await kill();
      await sleep(downMs);
      await launch();
    },
    stopServer: kill,
    startServer: launch,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const notHere = (what: string) => async () => {
  throw new Error(`stopServer()/startServer() need the nats-server binary, not ${what}`);
};

async function startContainer(): Promise<NatsServer | undefined> {
  const { GenericContainer, getContainerRuntimeClient } = await import("testcontainers");
  const hasEngine = await getContainerRuntimeClient().then(
    () => true,
    () => false,
  );
  if (!hasEngine) return undefined;
  const container = await new GenericContainer("nats:2.10-alpine")
    .withCommand(["-js"])
    .withExposedPorts(4222)
    .start();
  let stopped = false;
  return {
    kind: "container",
    url: `nats://${container.getHost()}:${container.getMappedPort(4222)}`,
    async restart(downMs = 300) {
      await container.restart({ timeout: downMs });
    },
    stopServer: notHere("a container"),
    startServer: notHere("a container"),
    async stop() {
      if (stopped) return;
      stopped = true;
      await container.stop();
    },
  };
}

/** Finds or starts a JetStream-enabled NATS server. */
export async function startNats(options: { restartable?: boolean } = {}): Promise<NatsServer> {
  const env = process.env.NATS_URL;
  if (env && !options.restartable) {
    return {
      kind: "env",
      url: env,
      restart: async () => {
        throw new Error("cannot restart a server given by NATS_URL");
      },
      stopServer: notHere("a server given by NATS_URL"),
      startServer: notHere("a server given by NATS_URL"),
      stop: async () => undefined,
    };
  }
  if (NATS_SERVER) return startBinary();
  const container = await startContainer();
  if (container) return container;
  throw new Error("no NATS server: set NATS_URL, install nats-server, or run a container engine");
}
