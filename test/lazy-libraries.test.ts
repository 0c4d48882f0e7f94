/**
 * Protocol libraries load only when a device or sink of their type runs (issue 19, item 2): a
 * gateway of simulator devices loads none of node-opcua, mqtt.js, modbus-serial, nats.js or
 * protobufjs (Sparkplug); one Modbus device (its server down) loads modbus-serial and nothing else. Each case runs in a fresh
 * process (test/fixtures/loaded-libraries.ts), so the suite's own imports do not count.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/cli.js";

const run = promisify(execFile);

async function loadedBy(devices: string): Promise<{ good: boolean; loaded: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "tagbridge-lazy-"));
  const file = join(dir, "gateway.yaml");
  writeFileSync(
    file,
    ["version: 1", "gateway: lazy", "dataDir: ./data", "http:", "  port: 0", "devices:", devices, ""].join(
      "\n",
    ),
  );
  const fixture = join(ROOT, "test/fixtures/loaded-libraries.ts");
  const { stdout } = await run(process.execPath, ["--import", "tsx", fixture, file], {
    cwd: ROOT,
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as { good: boolean; loaded: string[] };
}

const simulator = `  - id: cell-1
    type: simulator
    pollIntervalMs: 100
    connection: {}
    points:
      - { id: temp, type: float64, generator: { kind: sine, amplitude: 5, offset: 20 } }`;

describe("protocol libraries are imported on first use", () => {
  it("a gateway of simulator devices loads none of them", async () => {
    const result = await loadedBy(simulator);
    expect(result.good).toBe(true);
    expect(result.loaded).toEqual([]);
  }, 90_000);

  it("a Modbus device loads modbus-serial, and only it, once it tries to connect", async () => {
    const modbus = `  - id: plc-1
    type: modbus
    connection: { host: 127.0.0.1, port: 1, timeoutMs: 200 }
    points:
      - { id: speed, type: uint16, address: "holding:0" }`;
    const result = await loadedBy(`${simulator}\n${modbus}`);
    expect(result.good).toBe(true);
    expect(result.loaded).toEqual(["modbus-serial"]);
  }, 90_000);
});
