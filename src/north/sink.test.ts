/**
 * The sink runner's view of a sink's state (setState), through startNorth with a stub sink at the
 * sink seam: what the sink reports after stop() was called is ignored.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import Type from "typebox";
import { afterEach, describe, expect, it } from "vitest";
import { createBus } from "../core/bus.js";
import { defineSink, type SinkState } from "../sdk/sink.js";
import { type AnySinkConfig, startNorth } from "./index.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A sink that connects at start() and hands its setState out, so a test can report late. */
function stubSink() {
  const seen: { report?: (state: SinkState, reason?: string) => void } = {};
  const definition = defineSink({
    type: "stub",
    description: "A stub sink.",
    sdk: "^1.0.0",
    settingsSchema: Type.Object({}),
    capabilities: [],
    create: (ctx) => {
      seen.report = (state, reason) => ctx.setState(state, reason);
      return {
        start: async () => ctx.setState("connected"),
        stop: async () => ctx.setState("disconnected", "stopping"),
        publish: async () => undefined,
      };
    },
  });
  return { definition, seen };
}

describe("sink runner: the sink's state", () => {
  it("ignores what a sink reports after stop() was called", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tb-runner-"));
    dirs.push(dataDir);
    const { definition, seen } = stubSink();
    const north = await startNorth([{ id: "s", type: "stub" } as AnySinkConfig], {
      gateway: "g",
      dataDir,
      bus: createBus(),
      log: pino({ level: "silent" }),
      sinks: { get: () => definition, list: () => [definition] },
    });
    expect(north.status()[0]!.connected).toBe(true);
    await north.close();
    seen.report!("connected", "a late reconnect");
    const status = north.status()[0]!;
    expect(status.connected).toBe(false);
    expect(status.lastError).toBeUndefined();
  });
});
