/** Readings, a generator on a real Bus, and an MQTT subscriber that collects what north sinks publish. */
import mqtt, { type MqttClient } from "mqtt";
import { pino } from "pino";
import type { Bus } from "../../src/core/bus.js";
import type { Reading } from "../../src/schema/reading.js";
import { decodeCompactBatch } from "../../src/schema/reading-batch.js";

/** The Readings of a data message: one Reading, a JSON array of them, or a compact Reading batch. */
export function readingsOfMessage(payload: Buffer): Reading[] {
  const v = JSON.parse(payload.toString()) as Reading | Reading[] | { rows?: unknown };
  if (Array.isArray(v)) return v;
  return "rows" in v ? decodeCompactBatch(v) : [v as Reading];
}

/** An environment variable a test child process needs; throws when it is missing. */
export function requiredEnv(name: string): string {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} not set`);
  return v;
}

export const quiet = pino({ level: process.env.LOG_LEVEL ?? "silent" });

/** A valid Reading. */
export function reading(seq: number, device: string, point: string, value: Reading["value"] = seq): Reading {
  const ts = new Date(1_735_689_600_000 + seq).toISOString();
  return {
    gateway: "gw1",
    device,
    point,
    value,
    type: typeof value === "number" ? "float64" : typeof value === "boolean" ? "bool" : "string",
    quality: "good",
    ts,
    receivedAt: ts,
    protocol: "simulator",
    seq,
  };
}

/** Publishes cycles of `devices × points` readings on the bus, seq increasing from `from`. */
export class Generator {
  seq: number;
  constructor(
    private readonly bus: Bus,
    private readonly devices = 5,
    private readonly points = 4,
    from = 1,
  ) {
    this.seq = from;
  }

  cycle(): Reading[] {
    const out: Reading[] = [];
    for (let d = 0; d < this.devices; d++) {
      const batch: Reading[] = [];
      for (let p = 0; p < this.points; p++) batch.push(reading(this.seq++, `dev${d}`, `p${p}`));
      this.bus.publish(batch);
      out.push(...batch);
    }
    return out;
  }

  /** Runs cycles every `periodMs` until `stop()`. */
  run(periodMs: number): { stop(): void } {
    const timer = setInterval(() => this.cycle(), periodMs);
    return { stop: () => clearInterval(timer) };
  }
}

/** Collects Readings (single, JSON arrays or compact batches) and status messages from an MQTT broker. */
export class Collector {
  readonly readings: Reading[] = [];
  readonly status: string[] = [];
  private constructor(readonly client: MqttClient) {}

  static async open(
    url: string,
    filter = "tagbridge/#",
    clientId = `collector-${process.pid}-${Date.now()}`,
  ) {
    // A persistent session (with a persistent broker) keeps what is published while we reconnect.
    const client = await mqtt.connectAsync(url, { clientId, clean: false, reconnectPeriod: 50 });
    const c = new Collector(client);
    client.on("message", (topic, payload) => {
      if (topic.endsWith("/status")) c.status.push(payload.toString());
      else c.readings.push(...readingsOfMessage(payload));
    });
    await client.subscribeAsync(filter, { qos: 1 });
    return c;
  }

  seqs(): Set<number> {
    return new Set(this.readings.map((r) => r.seq));
  }

  close(): Promise<void> {
    return this.client.endAsync(true);
  }
}

/** Polls `check` every 25 ms until it is true or `timeoutMs` passes; returns whether it became true. */
export async function until(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

/**
 * Lets real time pass, only where time is what a test is about: a window in which nothing may
 * happen (there is no event to await for "nothing arrived"), or a delay inside a linger. Waiting for
 * something to happen goes through `until` instead.
 */
export const pass = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Readings of each point in arrival order, duplicates (at-least-once) kept only at first arrival. */
export function firstArrivalsByPoint(readings: readonly Reading[]): Map<string, number[]> {
  const seen = new Set<number>();
  const out = new Map<string, number[]>();
  for (const r of readings) {
    if (seen.has(r.seq)) continue;
    seen.add(r.seq);
    const k = `${r.device}/${r.point}`;
    const list = out.get(k) ?? [];
    list.push(r.seq);
    out.set(k, list);
  }
  return out;
}

export const isIncreasing = (xs: readonly number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);
