/**
 * The fault-schedule suite: every folder under cases/ holds a gateway.yaml, a schedule.yaml (the
 * peer, the steps, the number of outages in a row) and an expected.yaml (what the device and every
 * point must show after each step). Each case runs its schedule against a real peer and checks,
 * after every step, REST latest and device state, a WebSocket client, an SSE client and an MQTT
 * subscriber of the gateway's north sink (on its own Mosquitto, which no case kills).
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MOSQUITTO } from "../peers/mqtt-broker.js";
import { pymodbusMissing, socatMissing } from "../peers/pymodbus.js";
import { mismatches } from "./harness/expect.js";
import { mosquitto } from "./harness/peers.js";
import { loadCase, runCase } from "./harness/run.js";
import type { Snapshot } from "./harness/views.js";

const CASES = join(import.meta.dirname, "cases");
const names = readdirSync(CASES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

/** Why a case cannot run here, from the peer it needs. */
function missing(name: string): string | undefined {
  if (!MOSQUITTO) return "mosquitto is not installed (the north view needs it)";
  const kind = loadCase(join(CASES, name)).schedule.peer.kind;
  if (kind === "pymodbus-tcp") return pymodbusMissing();
  if (kind === "pymodbus-rtu") return pymodbusMissing() ?? socatMissing();
  return undefined;
}

describe("the checker", () => {
  const reading = (point: string, quality: "good" | "bad", status?: string) => ({
    gateway: "g",
    device: "d",
    point,
    value: 1,
    type: "float64" as const,
    quality,
    ...(status ? { status } : {}),
    ts: "2026-01-01T00:00:00.000Z",
    receivedAt: "2026-01-01T00:00:00.000Z",
    protocol: "simulator",
    seq: 1,
  });
  const snap = (state: string, sseQuality: "good" | "bad", stateReason?: string): Snapshot => {
    const bad = new Map([["p", reading("p", "bad", "Disconnected")]]);
    return {
      device: { state, ...(stateReason ? { stateReason } : {}), counters: { reconnects: 0 } },
      views: {
        rest: bad,
        ws: bad,
        sse: new Map([["p", reading("p", sseQuality, sseQuality === "bad" ? "Disconnected" : undefined)]]),
        mqtt: new Map(),
      },
    };
  };
  const down = {
    state: ["disconnected", "connecting"],
    points: { "*": { quality: "bad" as const, status: "Disconnected" } },
  };

  it("names a view that shows good during an outage, a view with no reading, a state without a reason", () => {
    expect(mismatches(snap("disconnected", "good", "ECONNREFUSED"), down, ["p"], 0)).toEqual([
      'sse p: good value=1 seq=1, want {"quality":"bad","status":"Disconnected"}',
      "mqtt p: no reading",
    ]);
    expect(mismatches(snap("connected", "bad"), down, ["p"], 0)).toContain(
      "device state connected (no reason), want disconnected|connecting",
    );
    expect(mismatches(snap("disconnected", "bad"), down, ["p"], 0)).toContain(
      "device state disconnected without a stateReason",
    );
  });

  it("counts reconnects", () => {
    const up = { state: "connected", countReconnects: true, points: {} };
    expect(mismatches(snap("connected", "bad"), up, [], 2)).toEqual([
      "counters.reconnects 0 after 2 outage(s)",
    ]);
  });
});

describe("fault schedules", () => {
  let north: Awaited<ReturnType<typeof mosquitto>> | undefined;
  beforeAll(async () => {
    if (!MOSQUITTO) return;
    north = await mosquitto(false);
    await north.start();
  });
  afterAll(async () => north?.close());

  for (const name of names) {
    const why = missing(name);
    it.skipIf(!!why)(`${name}${why ? ` — SKIPPED: ${why}` : ""}`, { timeout: 60_000 }, async () => {
      const t0 = Date.now();
      const timeline = await runCase(join(CASES, name), north!.url);
      const steps = timeline.map(
        (t) => `${t.step.replace(/ (start|kill|wait).*/, "")}→${t.expect ?? "-"} ${t.ms} (action ${t.actMs})`,
      );
      process.stdout.write(
        `[faults] ${name}: ${Date.now() - t0} ms; ms until all views agreed: ${steps.join(", ")}\n`,
      );
      const outages = loadCase(join(CASES, name)).schedule.outages;
      expect(outages).toBeGreaterThanOrEqual(5);
      expect(timeline.filter((t) => t.step.startsWith("outage")).length).toBe(
        outages * loadCase(join(CASES, name)).schedule.outage.length,
      );
    });
  }
});
