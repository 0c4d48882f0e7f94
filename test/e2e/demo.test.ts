/**
 * The "done when", as a new user would do it: start the demo, read the latest values,
 * validate them against the served schema, and receive the live stream over WebSocket and SSE.
 */
import { request } from "node:http";
import type { TSchema } from "typebox";
import { Compile } from "typebox/compile";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type CliProcess, cli } from "../helpers/cli.js";

let demo: CliProcess;
let base: string;

beforeAll(async () => {
  demo = cli(["demo", "--port", "0", "--log-level", "warn"]);
  const [, url] = await demo.waitFor(/latest readings\s+(http:\/\/127\.0\.0\.1:\d+)\//, 90_000);
  base = url!;
});

afterAll(async () => {
  demo.child.kill("SIGTERM");
  expect(await demo.exited).toBe(0);
});

describe("tagbridge demo", () => {
  it("serves simulator readings that validate against the schema it publishes", async () => {
    const schema = (await (await fetch(`${base}/api/v1/schema/reading`)).json()) as TSchema;
    const check = Compile(schema);
    let readings: unknown[] = [];
    for (let i = 0; i < 50 && readings.length < 5; i++) {
      readings = (await (await fetch(`${base}/api/v1/readings/latest?device=press-1`)).json()) as unknown[];
      if (readings.length < 5) await new Promise((r) => setTimeout(r, 100));
    }
    expect(readings.length).toBeGreaterThanOrEqual(5);
    for (const r of readings) expect([...check.Errors(r)]).toEqual([]);
    expect(readings).toContainEqual(
      expect.objectContaining({
        device: "press-1",
        point: "pressure",
        protocol: "simulator",
        quality: "good",
        unit: "bar",
      }),
    );
  });

  it("streams live readings over WebSocket, filtered by point", async () => {
    const ws = new WebSocket(`${base.replace("http", "ws")}/api/v1/stream?device=press-1&point=pressure`);
    const batches: { point: string; seq: number }[][] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on("message", (data) => {
        batches.push(JSON.parse(data.toString()));
        if (batches.length >= 3) resolve();
      });
      ws.on("error", reject);
      setTimeout(() => reject(new Error("no live readings within 10 s")), 10_000);
    });
    ws.close();
    const all = batches.flat();
    expect(all.every((r) => r.point === "pressure")).toBe(true);
    const seqs = all.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it("streams live readings over SSE (what curl -N sees)", async () => {
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(`${base}/api/v1/events?point=strokes`, (res) => {
        expect(res.headers["content-type"]).toMatch(/text\/event-stream/);
        let body = "";
        res.on("data", (d: Buffer) => {
          body += d.toString();
          if ((body.match(/event: reading/g) ?? []).length >= 3) {
            req.destroy();
            resolve(body);
          }
        });
      });
      req.on("error", (e) => (e.message.includes("aborted") ? undefined : reject(e)));
      req.end();
      setTimeout(() => reject(new Error("no SSE readings within 10 s")), 10_000);
    });
    const data = text
      .split("\n")
      .filter((l) => l.startsWith("data: "))
      .map((l) => JSON.parse(l.slice(6)) as { point: string; value: number });
    expect(data.length).toBeGreaterThanOrEqual(3);
    expect(data.every((r) => r.point === "strokes")).toBe(true);
  });

  it("reads all three protocols from their simulators, and reports device state with counters", async () => {
    type Device = { id: string; state: string };
    let devices: Device[] = [];
    for (let i = 0; i < 150; i++) {
      devices = (await (await fetch(`${base}/api/v1/devices`)).json()) as Device[];
      if (
        ["modbus-sim", "plant", "line1", "filler"].every(
          (id) => devices.find((d) => d.id === id)?.state === "connected",
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(devices.map((d) => d.id).sort()).toEqual([
      "filler",
      "line1",
      "modbus-sim",
      "oven-2",
      "plant",
      "press-1",
    ]);
    for (const id of ["modbus-sim", "plant", "line1", "filler"])
      expect(devices.find((d) => d.id === id)?.state, id).toBe("connected");
    const latest = (await (
      await fetch(`${base}/api/v1/readings/latest?device=modbus-sim,plant,line1,filler`)
    ).json()) as {
      protocol: string;
      quality: string;
    }[];
    for (const protocol of ["modbus", "opcua", "mqtt"]) {
      expect(
        latest.some((r) => r.protocol === protocol && r.quality === "good"),
        protocol,
      ).toBe(true);
    }
    // …and publishes them north to the demo broker
    type Sink = { id: string; connected: boolean; published: number };
    let sinks: Sink[] = [];
    for (let i = 0; i < 100 && !(sinks[0]?.published ?? 0); i++) {
      sinks = (await (await fetch(`${base}/api/v1/north`)).json()) as Sink[];
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sinks[0]).toMatchObject({ id: "uns", connected: true });
    expect(sinks[0]!.published).toBeGreaterThan(0);
    const bad = await fetch(`${base}/api/v1/readings/latest?device=../etc`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("TB_ERR_BAD_REQUEST");
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
