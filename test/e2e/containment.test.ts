/**
 * A fault stays in its device, in a real `tagbridge run` process: a third-party adapter whose
 * library callback throws, one that leaves a rejected promise, one its own create() refuses at
 * start, and one whose stop() hangs. The process stays up, the other devices keep polling, each
 * faulty device is `faulted` with its reason and counted in /metrics, and SIGTERM still ends the
 * process within shutdownTimeoutMs.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliProcess, cli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "tagbridge-containment-"));
const file = join(dir, "gateway.yaml");
const misbehaving = (id: string, mode: string) => `  - id: ${id}
    type: misbehaving
    pollIntervalMs: 50
    reconnect: { minMs: 100, maxMs: 400 }
    connection: { mode: ${mode} }
    points:
      - { id: n, type: int32 }
`;
const CONFIG = `version: 1
gateway: contain-gw
http: { port: 0 }
shutdownTimeoutMs: 3000
adapters: [tagbridge-adapter-misbehaving]
devices:
  - id: steady
    type: simulator
    pollIntervalMs: 50
    connection: {}
    points:
      - { id: c, type: int32, generator: { kind: counter } }
${misbehaving("thrower", "throw-in-callback")}${misbehaving("rejecter", "reject-later")}${misbehaving("hanger", "hang-stop")}`;

let p: CliProcess;
let api: string;
let headers: Record<string, string>;

interface Device {
  id: string;
  state: string;
  stateReason?: string;
  counters: { reads: number; faults: number };
}
const get = async <T>(path: string): Promise<T> =>
  (await (await fetch(`${api}${path}`, { headers })).json()) as T;

async function until(cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`condition not met in ${ms} ms; output:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  writeFileSync(file, CONFIG);
  p = cli(["run", "-c", file, "--log-level", "info"]);
  const [, port] = await p.waitFor(/Server listening at http:\/\/127\.0\.0\.1:(\d+)/);
  api = `http://127.0.0.1:${port}/api/v1`;
  await p.waitFor(/first start: created an admin API token/);
  headers = { authorization: `Bearer ${readFileSync(join(dir, "data", "admin-token"), "utf8").trim()}` };
}, 60_000);

afterAll(() => {
  if (p?.child.exitCode === null) p.child.kill("SIGKILL");
});

describe("a fault stays in its device", () => {
  for (const [id, what] of [
    ["thrower", /fault: library callback blew up/],
    ["rejecter", /fault: nobody awaited this/],
  ] as const) {
    it(`${id}: faulted with its reason, counted, restarted, faulted again; the rest keeps running`, async () => {
      await until(async () => (await get<Device>(`/devices/${id}`)).counters.faults >= 2);
      const d = await get<Device>(`/devices/${id}`);
      expect(p.child.exitCode).toBeNull();
      await until(async () => (await get<Device>(`/devices/${id}`)).state === "faulted");
      expect((await get<Device>(`/devices/${id}`)).stateReason).toMatch(what);
      const latest = await get<{ point: string; quality: string; status?: string }[]>(
        `/readings/latest?device=${id}`,
      );
      expect(latest.map((r) => `${r.quality}/${r.status}`)).toEqual(["bad/DeviceFault"]);
      expect(d.counters.reads).toBeGreaterThan(0); // it ran between faults
      const steady = await get<Device>("/devices/steady");
      expect(steady.state).toBe("connected");
      const reads = steady.counters.reads;
      await until(async () => (await get<Device>("/devices/steady")).counters.reads > reads);
      const metrics = await (await fetch(`${api.replace("/api/v1", "")}/metrics`, { headers })).text();
      expect(metrics).toMatch(
        new RegExp(`tagbridge_device_faults\\{device="${id}",adapter="misbehaving"\\} [1-9]`),
      );
      expect(p.output()).toMatch(new RegExp(`"device":"${id}".*in device '${id}'`));
    });
  }

  it("SIGTERM ends the process within shutdownTimeoutMs although a device's stop() hangs", async () => {
    await until(async () => (await get<Device>("/devices/hanger")).state === "connected");
    const started = Date.now();
    p.child.kill("SIGTERM");
    const code = await p.exited;
    expect(Date.now() - started).toBeLessThan(3000 + 1500);
    expect(code).toBe(0);
    expect(p.output()).toMatch(/devices did not stop in time; flushing north and history anyway/);
  });
});
