/**
 * The OPC UA peer for tests: an in-process node-opcua server on a free 127.0.0.1 port with the given
 * variables and its own PKI folder under the OS temp directory, or, when `OPCUA_URL` is set, that
 * external server (then `set` and restarts are unavailable and tests needing them skip).
 * No testcontainers branch: there is no pinned OPC UA server image worth the dependency here.
 */
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type RunningServer,
  type ServedVariable,
  type ServerOptions,
  startOpcuaServer,
} from "../../adapters/opcua/simulate.js";

export type { ServedVariable };

/** A test server; `restart()` stops it and starts it again on the same port with the same certificate. */
export interface OpcuaPeer {
  endpointUrl: string;
  /** False for an external server from OPCUA_URL. */
  local: boolean;
  /** The local server's PKI folder (`server/` and `user/` trust lists); undefined with OPCUA_URL. */
  pkiDir?: string;
  set(name: string, value: unknown, status?: Parameters<RunningServer["set"]>[2]): void;
  get(name: string): unknown;
  /** Stops the server (it can be started again with `restart`). */
  halt(): Promise<void>;
  /**
   * Starts it again on the same port, with the same certificate and variables (at their initial
   * values); `changes` override server options from now on, e.g. another `namespaces` order.
   */
  restart(changes?: RestartChanges): Promise<void>;
  /** Stops it for good and removes its PKI folder. */
  stop(): Promise<void>;
}

/** What a restart changes: server options from now on, and `newCertificate` for this restart. */
export type RestartChanges = Omit<ServerOptions, "variables" | "pkiDir" | "port"> & {
  /** Start with a new application certificate (and key), as after a certificate rotation. */
  newCertificate?: boolean;
};

/**
 * Starts (or finds) an OPC UA server serving `variables` at `ns=1;s=<name>`, or in the namespace a
 * variable names (`namespace`, one of `options.namespaces`, registered in that order from ns=2).
 */
export async function startOpcuaPeer(
  variables: readonly ServedVariable[],
  initial: Omit<ServerOptions, "variables" | "pkiDir"> = {},
): Promise<OpcuaPeer> {
  const options = { ...initial };
  const external = process.env.OPCUA_URL;
  if (external) {
    const unavailable = () => {
      throw new Error("not available with OPCUA_URL");
    };
    return {
      endpointUrl: external,
      local: false,
      set: unavailable,
      get: unavailable,
      halt: async () => unavailable(),
      restart: async () => unavailable(),
      stop: async () => undefined,
    };
  }
  const pkiDir = mkdtempSync(join(tmpdir(), "tagbridge-opcua-peer-"));
  let server: RunningServer | undefined = await startOpcuaServer({ ...options, variables, pkiDir });
  const port = server.port;
  const live = () => {
    if (!server) throw new Error("the OPC UA test server is stopped");
    return server;
  };
  return {
    endpointUrl: server.endpointUrl,
    local: true,
    pkiDir,
    set: (name, value, status) => live().set(name, value, status),
    get: (name) => live().get(name),
    async halt() {
      await server?.stop();
      server = undefined;
    },
    async restart({ newCertificate, ...changes } = {}) {
      await server?.stop();
      server = undefined;
      if (newCertificate) await rm(join(pkiDir, "server", "own"), { recursive: true, force: true });
      Object.assign(options, changes);
      server = await startOpcuaServer({ ...options, variables, pkiDir, port });
    },
    async stop() {
      await server?.stop();
      server = undefined;
      await rm(pkiDir, { recursive: true, force: true });
    },
  };
}
