/**
 * The simulator adapter: start/stop/read/write over a `SimulatedDevice`. Polled: the core schedules
 * reads; this file owns no timers beyond the optional connect delay of `start()`.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Adapter, AdapterContext, PointConfig, Sample, WriteResult } from "../../src/sdk/index.js";
import { OutageError, type SimResult, SimulatedDevice } from "./client.js";
import type { SimulatorPointFields, SimulatorSettings } from "./config.js";

/** A simulator point: core fields plus `generator`. */
export type SimulatorPoint = PointConfig<SimulatorPointFields>;

/** The context the core hands a simulator instance. */
export type SimulatorContext = AdapterContext<SimulatorSettings, SimulatorPointFields>;

/** A simulator instance: it can read and write. */
export type SimulatorInstance = Required<
  Pick<Adapter<SimulatorPointFields>, "start" | "stop" | "read" | "write">
>;

/** idle: never started or connection lost; running: reads allowed; stopped: after stop(). */
type Phase = "idle" | "running" | "stopped";

/** Creates a simulator instance for one device. No I/O: the virtual device is a plain object. */
export function createSimulator(ctx: SimulatorContext): SimulatorInstance {
  const device = new SimulatedDevice({ seed: ctx.settings.seed ?? 1, outage: ctx.settings.outage });
  const writes = ctx.metrics.counter("simulator_writes", "Writes the simulated device accepted.");
  const outages = ctx.metrics.counter(
    "simulator_outages",
    "Reads and writes that failed in a simulated outage.",
  );
  let phase: Phase = "idle";
  let aborter = new AbortController();

  /** Runs a device call; an outage drops the connection, so the core reconnects with start(). */
  const guarded = <T>(call: () => T): T => {
    try {
      return call();
    } catch (err) {
      if (err instanceof OutageError && phase === "running") {
        phase = "idle";
        outages.inc();
        ctx.log.warn("simulated outage: connection lost");
      }
      throw err;
    }
  };

  const stoppedWhileStarting = (): never => {
    throw new Error(`simulator ${ctx.device}: stopped while starting`);
  };

  const assertRunning = (what: string) => {
    if (phase !== "running") {
      throw new Error(
        `simulator ${ctx.device}: cannot ${what}, ${phase === "stopped" ? "stopped" : "not connected"}`,
      );
    }
  };

  return {
    async start() {
      if (phase === "running") return;
      aborter = new AbortController();
      const delay = ctx.settings.startDelayMs ?? 0;
      if (delay > 0)
        await sleep(delay, undefined, { signal: aborter.signal }).catch(() => stoppedWhileStarting());
      device.connect(ctx.clock.now());
      phase = "running";
      ctx.log.debug({ seed: ctx.settings.seed ?? 1 }, "simulated device connected");
    },

    async stop() {
      phase = "stopped";
      aborter.abort();
    },

    async read(points) {
      assertRunning("read");
      const now = ctx.clock.now();
      const results = guarded(() => device.read(points, now));
      return points.map((p, i) => toSample(p, results[i]!, now));
    },

    async write(point, value): Promise<WriteResult> {
      assertRunning("write");
      if (point.access !== "readwrite") {
        throw new Error(`point ${point.id} is read-only (access: ${point.access ?? "read"})`);
      }
      guarded(() => device.write(point, value, ctx.clock.now()));
      writes.inc();
      ctx.log.debug({ point: point.id }, "simulated write");
      return {};
    },
  };
}

/** A device result as a sample; the address names the generator, e.g. `sim:sine`. */
function toSample(point: SimulatorPoint, result: SimResult, now: number): Sample {
  const address = `sim:${point.generator.kind}`;
  if (result.ok) return { point: point.id, value: result.value, quality: "good", sourceTs: now, address };
  return { point: point.id, value: null, quality: "bad", status: result.status, sourceTs: now, address };
}
