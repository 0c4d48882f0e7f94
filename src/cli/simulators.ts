/**
 * Simulated devices for `tagbridge demo` and `tagbridge simulate`: every adapter type that offers
 * a simulator, started on its usual port or, when that is taken, on a free one.
 */
import { join } from "node:path";
import type { AdapterRegistry } from "../core/registry.js";
import type { RunningSimulator } from "../sdk/adapter.js";

/** A started simulator and the adapter type it speaks. */
export interface StartedSimulator extends RunningSimulator {
  type: string;
}

/** Starts one adapter type's simulator; `port` undefined means its usual port, else a free one. */
export async function startSimulator(
  registry: AdapterRegistry,
  type: string,
  dataDir: string,
  port?: number,
): Promise<StartedSimulator> {
  const definition = registry.get(type);
  if (!definition?.simulate) {
    const offered = registry
      .list()
      .filter((d) => d.simulate)
      .map((d) => d.type);
    throw new Error(`no simulator for '${type}' (available: ${offered.join(", ")})`);
  }
  const options = { dataDir: join(dataDir, "simulators", type) };
  try {
    return { type, ...(await definition.simulate({ ...options, ...(port !== undefined ? { port } : {}) })) };
  } catch (error) {
    if (port !== undefined || (error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    return { type, ...(await definition.simulate({ ...options, port: 0 })) };
  }
}

/** Starts every simulator the registry offers and exports their ports as TAGBRIDGE_DEMO_<TYPE>_PORT. */
export async function startDemoSimulators(
  registry: AdapterRegistry,
  dataDir: string,
): Promise<StartedSimulator[]> {
  const started: StartedSimulator[] = [];
  try {
    for (const d of registry.list()) {
      if (!d.simulate) continue;
      const s = await startSimulator(registry, d.type, dataDir);
      process.env[`TAGBRIDGE_DEMO_${d.type.toUpperCase().replaceAll("-", "_")}_PORT`] = String(s.port);
      started.push(s);
    }
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()));
    throw error;
  }
  return started;
}
