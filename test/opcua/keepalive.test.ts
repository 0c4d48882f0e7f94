/**
 * A subscription whose publish responses stop while the session is up (the server frozen with
 * SIGSTOP, its socket open) makes its points uncertain/Stale within the keep-alive window; when the
 * server runs again they are good again without their values changing, and the device never
 * looked disconnected.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import type { DeviceSpec } from "../../src/core/device.js";
import { Gateway } from "../../src/core/gateway.js";
import { AdapterRegistry } from "../../src/core/registry.js";
import type { Reading } from "../../src/schema/reading.js";
import { tempDir, waitFor } from "./helpers.js";

let child: ChildProcess | undefined;
let gateway: Gateway | undefined;
afterAll(async () => {
  await gateway?.stop();
  if (child?.pid) {
    child.kill("SIGCONT");
    child.kill("SIGTERM");
  }
});

/** Starts the server child process and resolves with its endpoint URL. */
function startChild(): Promise<string> {
  const script = join(import.meta.dirname, "server-process.ts");
  child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new Error("the OPC UA child server did not start in 30 s")),
      30_000,
    );
    child!.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (!line) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { endpointUrl: string }).endpointUrl);
    });
    child!.on("exit", (code) => reject(new Error(`the OPC UA child server exited (${code})`)));
  });
}

describe("opcua: subscription keep-alives stop while the session is up", () => {
  it("the points turn uncertain/Stale, and good again once the server publishes again", async () => {
    const endpointUrl = await startChild();
    const dataDir = tempDir("opcua-keepalive");
    const yaml = `version: 1
gateway: gw
devices:
  - id: plc
    type: opcua
    connection: { endpointUrl: ${endpointUrl}, acceptServerCertificate: true, publishingIntervalMs: 100, security: none }
    points:
      - { id: temp, type: float64, address: "ns=1;s=temp" }
`;
    const parsed = parseConfig(yaml, {
      file: join(dataDir, "gateway.yaml"),
      lookup: (t) => new AdapterRegistry().get(t),
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    gateway = new Gateway({
      id: "gw",
      dataDir,
      devices: parsed.config.devices as DeviceSpec[],
      registry: new AdapterRegistry(),
      log: pino({ level: "silent" }),
    });
    const readings: Reading[] = [];
    gateway.bus.subscribe({ name: "test", handle: (batch) => void readings.push(...batch) });
    const g = gateway;
    gateway.start();
    await waitFor(() => readings.find((r) => r.quality === "good"), 20_000, "a good reading");

    const states = new Set<string>();
    const watch = setInterval(() => states.add(g.device("plc")?.state ?? "none"), 20);
    child!.kill("SIGSTOP");
    const frozenAt = Date.now();
    const stale = await waitFor(
      () => readings.find((r) => r.quality === "uncertain" && r.status === "Stale"),
      8_000,
      "uncertain/Stale",
    );
    const staleAfterMs = Date.now() - frozenAt;
    expect(stale).toMatchObject({ point: "temp", value: 20 });
    child!.kill("SIGCONT");
    const mark = readings.indexOf(stale);
    await waitFor(
      () => readings.slice(mark + 1).find((r) => r.quality === "good"),
      15_000,
      "good again after the server runs again",
    );
    clearInterval(watch);
    expect(readings.slice(mark + 1).find((r) => r.quality === "good")).toMatchObject({ value: 20 });
    expect([...states].filter((s) => s !== "connected" && s !== "degraded")).toEqual([]);
    // Keep-alive 100 ms × 10 = 1 s, plus 0.5 s of slack, then the next watchdog tick (100 ms).
    expect(staleAfterMs).toBeGreaterThanOrEqual(1000);
    expect(staleAfterMs).toBeLessThan(4000);
    expect(g.device("plc")?.counters.staleMarks).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
