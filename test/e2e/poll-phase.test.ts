/**
 * `pollPhase` on the real service (issue 19, item 3): devices on `grid` read on multiples of their
 * interval, together; devices on `spread` read at their own offset within it, the one
 * `spreadPhase(id)` gives, so a fleet on one interval does not send every request in one millisecond;
 * a device without its own pollPhase takes the gateway's.
 * Offsets are medians over ten reads each: a loaded machine's late timers move single reads.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { spreadPhase } from "../../src/core/poller.js";
import type { Reading } from "../../src/schema/reading.js";
import { type Service, startService } from "../../src/service.js";
import { until } from "../helpers/until.js";

const INTERVAL = 200;
/** A simulator device; `inherited` leaves pollPhase to the gateway's (spread in this file). */
const device = (id: string, phase: "grid" | "spread" | "inherited") => `  - id: ${id}
    type: simulator
    pollIntervalMs: ${INTERVAL}${phase === "inherited" ? "" : `\n    pollPhase: ${phase}`}
    connection: {}
    points:
      - { id: v, type: float64, publish: always, generator: { kind: sine, amplitude: 1, offset: 0 } }`;
const DEVICES = { "grid-a": "grid", "grid-b": "grid", "cell-3": "spread", "cell-4": "inherited" } as const;

let service: Service | undefined;
afterAll(async () => {
  await service?.close();
});

/** Distance of two offsets on a circle of one interval. */
const apart = (a: number, b: number) => {
  const d = Math.abs(a - b) % INTERVAL;
  return Math.min(d, INTERVAL - d);
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe("pollPhase", () => {
  it("grid devices read on the interval's multiples; spread devices at their own offset in it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tagbridge-phase-"));
    const file = join(dir, "gateway.yaml");
    const devices = Object.entries(DEVICES).map(([id, phase]) => device(id, phase));
    writeFileSync(
      file,
      `version: 1\ngateway: phase-gw\ndataDir: ./data\nhttp: { port: 0 }\nhistory: { mode: off }\npollPhase: spread\ndevices:\n${devices.join("\n")}\n`,
    );
    service = await startService(file, {}, pino({ level: "silent" }));
    const offsets = new Map<string, number[]>(Object.keys(DEVICES).map((id) => [id, []]));
    const consumer = service.gateway.bus.subscribe({
      name: "phase-test",
      handle: (batch: readonly Reading[]) => {
        for (const r of batch) offsets.get(r.device)?.push(Date.parse(r.receivedAt) % INTERVAL);
      },
    });
    // The first read of each device is at its start, off any grid; ten after it.
    await until(
      "ten reads per device after the first",
      () => [...offsets.values()].every((o) => o.length >= 11),
      20_000,
    );
    consumer.close();
    const seen = Object.fromEntries([...offsets].map(([id, o]) => [id, median(o.slice(1, 11))]));
    // The poller adds 1 ms so that a timer never fires before its grid point.
    for (const [id, phase] of Object.entries(DEVICES)) {
      const expected = (phase === "grid" ? 0 : spreadPhase(id) * INTERVAL) + 1;
      expect({ id, off: apart(seen[id]!, expected) <= 15 }, JSON.stringify(seen)).toEqual({ id, off: true });
    }
    // The two spread devices are apart from the grid and from each other (68 and 112 ms into it).
    expect(apart(seen["cell-3"]!, seen["grid-a"]!)).toBeGreaterThan(40);
    expect(apart(seen["cell-4"]!, seen["cell-3"]!)).toBeGreaterThan(20);
  }, 60_000);
});
