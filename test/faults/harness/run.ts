/**
 * Runs one fault case: starts its peer, a gateway service from its gateway.yaml (placeholders
 * `${env:FAULT_…}` filled from the peer and the harness), the four views, then the schedule's
 * steps; after every step, waits (with a deadline, polling) until all four views and the device
 * agree with the step's expectation.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parse } from "yaml";
import { type Service, startService } from "../../../src/service.js";
import { type Expected, mismatches } from "./expect.js";
import { type FaultPeer, makePeer, type PeerSpec } from "./peers.js";
import { openNorth, openViews } from "./views.js";

/** One step of a schedule: an action, then the expectation (by name in expected.yaml) that must follow. */
export interface Step {
  do: "start peer" | "kill peer" | "start gateway" | "wait";
  expect?: string;
  /**
   * Once the expectation is met, it must keep holding (checked continuously) for this long: an
   * outage that lasts, during which no view may flip back to good.
   */
  holdMs?: number;
  /** Deadline of this step's expectation, instead of the schedule's stepTimeoutMs: a bound the case asserts. */
  withinMs?: number;
}

/** schedule.yaml */
export interface Schedule {
  peer: PeerSpec;
  /** Deadline of each step's expectation, in ms. */
  stepTimeoutMs: number;
  /** Steps before the outages (start the peer and the gateway). */
  setup: Step[];
  /** How many times `outage` runs in a row. */
  outages: number;
  /** One outage: e.g. kill peer → down, start peer → up. */
  outage: Step[];
}

/** What happened at one step. */
export interface TimelineEntry {
  step: string;
  expect?: string;
  /** ms from the action until every view and the device agreed (before any holdMs). */
  ms: number;
  /** ms the action itself took (e.g. a peer's start until it listened). */
  actMs: number;
}

/** Reads a case folder. */
export function loadCase(dir: string): { schedule: Schedule; expected: Expected; config: string } {
  return {
    schedule: parse(readFileSync(join(dir, "schedule.yaml"), "utf8")) as Schedule,
    expected: parse(readFileSync(join(dir, "expected.yaml"), "utf8")) as Expected,
    config: readFileSync(join(dir, "gateway.yaml"), "utf8"),
  };
}

/** Runs the case in `dir`, with the north sink's broker at `northUrl`; resolves to its timeline. */
export async function runCase(dir: string, northUrl: string): Promise<TimelineEntry[]> {
  const { schedule, expected, config } = loadCase(dir);
  const work = mkdtempSync(join(tmpdir(), "tb-faults-"));
  const peer: FaultPeer = await makePeer(schedule.peer);
  const timeline: TimelineEntry[] = [];
  const envKeys: string[] = [];
  let service: Service | undefined;
  let views: Awaited<ReturnType<typeof openViews>> | undefined;
  let outagesEnded = 0;

  const startGateway = async () => {
    const env: Record<string, string> = {
      ...peer.env(),
      FAULT_NORTH_URL: northUrl,
      FAULT_DATA_DIR: join(work, "data"),
    };
    for (const [k, v] of Object.entries(env)) {
      process.env[k] = v;
      envKeys.push(k);
    }
    const file = join(work, "gateway.yaml");
    writeFileSync(file, config);
    const gateway = parse(config).gateway as string;
    const north = await openNorth(northUrl, `tagbridge/${gateway}/${expected.device}/#`, expected.device);
    try {
      service = await startService(file, { logLevel: (process.env.FAULT_LOG_LEVEL ?? "silent") as "silent" });
      views = await openViews(service.url, expected.device, north);
    } catch (error) {
      await north.close();
      throw error;
    }
  };

  const act = async (step: Step) => {
    if (step.do === "start peer") await peer.start();
    else if (step.do === "kill peer") await peer.kill();
    else if (step.do === "start gateway") await startGateway();
  };

  /** Waits for the step's expectation, then holds it; resolves to the ms until it was first met. */
  const settle = async (step: Step, label: string, t0: number): Promise<number> => {
    if (!step.expect) return Date.now() - t0;
    const e = expected.expect[step.expect];
    if (!e) throw new Error(`${label}: no expectation '${step.expect}' in expected.yaml`);
    if (!views) throw new Error(`${label}: the gateway is not started`);
    const within = step.withinMs ?? schedule.stepTimeoutMs;
    const deadline = t0 + within;
    let last: string[] = [];
    for (;;) {
      last = mismatches(await views.snapshot(), e, expected.points, outagesEnded);
      if (last.length === 0) break;
      if (Date.now() > deadline) throw failure(step, label, last, `not reached within ${within} ms`);
      await sleep(50);
    }
    const reached = Date.now() - t0;
    const holdUntil = Date.now() + (step.holdMs ?? 0);
    while (Date.now() < holdUntil) {
      await sleep(50);
      last = mismatches(await views.snapshot(), e, expected.points, outagesEnded);
      if (last.length > 0) throw failure(step, label, last, `held, then broken before ${step.holdMs} ms`);
    }
    return reached;
  };

  const failure = (step: Step, label: string, last: string[], what: string) => {
    const done = timeline.map((t) => `${t.step}→${t.expect ?? "-"} ${t.ms}ms`).join("; ");
    return new Error(
      `${label} (${step.do} → ${step.expect}): ${what}:\n  ${last.join("\n  ")}\n` +
        `timeline so far: ${done}\nview notices: ${views?.errors.slice(-5).join("; ") || "none"}\npeer: ${peer.describe?.() ?? "-"}`,
    );
  };

  const run = async (step: Step, label: string) => {
    const t0 = Date.now();
    await act(step);
    const actMs = Date.now() - t0;
    const ms = await settle(step, label, t0);
    timeline.push({ step: label, ...(step.expect ? { expect: step.expect } : {}), ms, actMs });
  };

  try {
    for (const [i, step] of schedule.setup.entries()) await run(step, `setup ${i + 1} ${step.do}`);
    for (let n = 1; n <= schedule.outages; n++) {
      for (const [i, step] of schedule.outage.entries()) {
        // The last step of an outage ends it: its expectation may count the reconnect.
        if (i === schedule.outage.length - 1) outagesEnded = n;
        await run(step, `outage ${n} step ${i + 1} ${step.do}`);
      }
    }
    return timeline;
  } finally {
    await views?.close();
    await service?.close();
    await peer.close();
    for (const k of envKeys) delete process.env[k];
    rmSync(work, { recursive: true, force: true });
  }
}
