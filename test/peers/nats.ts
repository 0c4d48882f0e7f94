/**
 * A NATS server with JetStream for tests, found or started in this order: `NATS_URL` from the
 * environment; the nats-server binary on a free loopback port (`-js -sd <tmpdir>`); a container
 * (nats:2.10-alpine, `-js`) through testcontainers when a container engine answers. This machine
 * has no container engine, so the binary is what runs here. `restart(downMs)` stops the server
 * and starts it again on the same port and store (an outage); `stop()` ends what was started.
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
  /** Stops and starts the server again on the same port and store. */
  restart(downMs?: number): Promise<void>;
  /** Stops what was started; idempotent. */
  stop(): Promise<void>;
}

async function startBinary(): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), "tb-nats-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn(NATS_SERVER!, ["-js", "-sd", dir, "-a", "127.0.0.1", "-p", String(port)], {
      stdio: "ignore",
    });
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
    async restart(downMs = 300) {
      await kill();
      await sleep(downMs);
      await launch();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

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
      stop: async () => undefined,
    };
  }
  if (NATS_SERVER) return startBinary();
  const container = await startContainer();
  if (container) return container;
  throw new Error("no NATS server: set NATS_URL, install nats-server, or run a container engine");
}
