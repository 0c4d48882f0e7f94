/**
 * A core-backed sink check: a sink definition run inside the real north runner (startNorth: bus
 * consumer, SinkRunner, durable SQLite buffer), against the peer of a sink conformance fixture.
 * The peer is stopped, readings are published on the bus while it is down (they go to the
 * buffer), the peer is started again, and what arrived is compared with what was published:
 * every reading, in order, marked historical where the sink replays (`replay` capability). The
 * kit's own checks drive the sink alone; this one covers what the core does around it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { TObject } from "typebox";
import { createBus } from "../core/bus.js";
import { assertNone, type ConformanceCheck, fail } from "../sdk/conformance.js";
import type { SinkDefinition } from "../sdk/sink.js";
import type { SinkConformanceFixture } from "../sdk/sink-conformance.js";
import {
  deliveryProblems,
  instanceCapabilities,
  kitReadings,
  missingCount,
} from "../sdk/sink-conformance-rules.js";
import type { AnySinkConfig } from "./config.js";
import { startNorth } from "./index.js";

const silent = pino({ level: "silent" });

/** Polls `check` every 20 ms until it is true; fails with `what` after `ms`. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The check "a failed publish is buffered and replayed in order, marked historical where the sink
 * replays" for `definition` against `fixture`'s peer. `count` readings over 3 devices.
 */
export function bufferedReplayCheck<S extends TObject>(
  definition: SinkDefinition<S>,
  fixture: SinkConformanceFixture,
  count = 30,
): ConformanceCheck {
  return {
    name: "core: readings published while the peer is down are buffered and replayed in order after it is back",
    async run() {
      const timeoutMs = Math.max(fixture.timeoutMs ?? 5_000, 10_000);
      const connectMs = fixture.connectTimeoutMs ?? 10_000;
      const settings = fixture.settings as Record<string, unknown>;
      const dataDir = mkdtempSync(join(tmpdir(), "tb-sink-harness-"));
      const bus = createBus();
      const def = definition as unknown as SinkDefinition;
      const north = await startNorth([{ ...settings, id: "harness", type: def.type } as AnySinkConfig], {
        gateway: "test-gateway",
        dataDir,
        bus,
        log: silent,
        sinks: { get: (t) => (t === def.type ? def : undefined), list: () => [def] },
      });
      const status = () => north.status()[0]!;
      let peerDown = false;
      try {
        await waitFor("the sink connected", () => status().connected, connectMs);
        await fixture.stopPeer();
        peerDown = true;
        await waitFor("the sink to notice the peer is down", () => !status().connected, connectMs);
        const published = kitReadings(`core${Date.now().toString(36)}`, 1_000_000_000, count, 3);
        for (let i = 0; i < published.length; i += 10) bus.publish(published.slice(i, i + 10));
        await waitFor(`${count} readings in the buffer`, () => status().buffered === count, timeoutMs);
        await fixture.startPeer();
        peerDown = false;
        await waitFor("the buffer drained", () => status().connected && status().buffered === 0, timeoutMs);
        await waitFor(
          "the replayed readings at the peer",
          async () => missingCount(published, await fixture.received()) === 0,
          timeoutMs,
        ).catch(() => undefined); // what is missing is reported below
        const marks = instanceCapabilities(definition, settings).includes("replay");
        assertNone(
          deliveryProblems(published, await fixture.received(), {
            historical: true,
            checkMarks: marks,
            ordering: fixture.ordering ?? "device",
          }),
        );
      } finally {
        if (peerDown) await fixture.startPeer();
        await north.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}
