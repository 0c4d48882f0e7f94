/**
 * Test helpers for sink authors: a complete `SinkContext` built from plain settings, validated
 * against the sink's own schema the way the gateway validates a `north:` entry, with a silent
 * logger, a settable clock, in-memory metrics and durable state, and every state change recorded.
 * The clock and metrics are the adapter kit's (`FakeClock`, `MemoryMetrics`).
 */
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { Static, TObject } from "typebox";
import { Compile, type Validator } from "typebox/compile";
import type { Reading } from "../schema/reading.js";
import type { Clock } from "./adapter.js";
import type { SinkContext, SinkDefinition, SinkState } from "./sink.js";
import { FakeClock, MemoryMetrics } from "./testing.js";

/** What `createSinkTestContext` builds the context from, besides the settings. */
export interface SinkTestContextOptions {
  /** Clock to inject; a new `FakeClock` by default. */
  clock?: Clock;
  /** Sink id; default `test-sink`. */
  sink?: string;
  /** Gateway id; default `test-gateway`. */
  gateway?: string;
  /** What `ctx.selects()` answers; default: every reading is selected. */
  selects?: (reading: Reading) => boolean;
  /** What `ctx.latest()` answers from (filtered by device when asked); default none. */
  latest?: readonly Reading[];
  /** What `ctx.deviceState()` answers, by device id; unknown devices are undefined. */
  deviceStates?: Readonly<Record<string, string>>;
  /** Durable state the sink finds at start, as a previous run would have left it. */
  state?: Readonly<Record<string, string>>;
  /** The sink's data directory; default a fresh path under the OS temp directory, not created. */
  dataDir?: string;
}

/** A state change a sink reported through `ctx.setState`. */
export interface RecordedSinkState {
  /** The state reported. */
  state: SinkState;
  /** The reason given with it, if any. */
  reason: string | undefined;
  /** When it was reported, by the real clock (epoch ms), for tests that look at pacing. */
  at: number;
}

/** A context for one sink instance, and what the sink did with it. */
export interface SinkTestContext<S> {
  /** Pass this to `definition.create()`. */
  ctx: SinkContext<S>;
  /** Every `ctx.setState` call, in order. */
  states: RecordedSinkState[];
  /** The state last reported; undefined before the first report. */
  readonly current: SinkState | undefined;
  /** The durable key-value state as the sink left it. */
  stored: Map<string, string>;
  /** The injected clock: the `FakeClock` created by default, or the one given. */
  clock: Clock;
  /** The injected metrics. */
  metrics: MemoryMetrics;
  /**
   * Resolves once the last reported state is `state` (at once when it already is); rejects after
   * `timeoutMs` (default 5000) with the states seen so far.
   */
  waitForState(state: SinkState, timeoutMs?: number): Promise<void>;
}

/**
 * Builds a `SinkContext` for `definition` from the sink's own settings (the fields of its config
 * object besides the core ones, as config would hold them). Validates them against
 * `settingsSchema` without applying defaults, as the core hands them over; throws one Error listing
 * every problem with its path. The data directory is a fresh path under the OS temp directory that
 * is not created.
 */
export function createSinkTestContext<S extends TObject>(
  definition: SinkDefinition<S>,
  settings: unknown,
  options: SinkTestContextOptions = {},
): SinkTestContext<Static<S>> {
  const problems = settingsProblems(definition, settings);
  if (problems.length > 0) {
    throw new Error(`invalid ${definition.type} sink test settings:\n  ${problems.join("\n  ")}`);
  }
  const sink = options.sink ?? "test-sink";
  const gateway = options.gateway ?? "test-gateway";
  const states: RecordedSinkState[] = [];
  const waiters = new Set<() => void>();
  const stored = new Map(Object.entries(options.state ?? {}));
  const clock = options.clock ?? new FakeClock();
  const metrics = new MemoryMetrics();
  const latest = options.latest ?? [];
  const selects = options.selects ?? (() => true);
  const current = () => states.at(-1)?.state;

  const ctx: SinkContext<Static<S>> = {
    gateway,
    sink,
    log: silentLog.child({ sink, sinkType: definition.type }),
    settings: structuredClone(settings) as Static<S>,
    setState: (state, reason) => {
      states.push({ state, reason, at: Date.now() });
      for (const wake of [...waiters]) wake();
    },
    selects: (reading) => selects(reading),
    latest: (devices) =>
      latest.filter((r) => selects(r) && (devices === undefined || devices.includes(r.device))),
    deviceState: (device) => options.deviceStates?.[device],
    state: {
      get: (key) => stored.get(key),
      set: (key, value) => void stored.set(key, value),
    },
    publishTimeoutMs: 10_000,
    clock,
    metrics,
    dataDir: options.dataDir ?? join(tmpdir(), `tagbridge-test-${randomUUID()}`, gateway, "sinks", sink),
  };

  const waitForState = (state: SinkState, timeoutMs = 5_000) =>
    new Promise<void>((resolve, reject) => {
      if (current() === state) return resolve();
      const wake = () => {
        if (current() !== state) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        const seen = states.map((s) => (s.reason ? `${s.state} (${s.reason})` : s.state));
        reject(
          new Error(
            `the sink did not report ${state} within ${timeoutMs} ms (reported: ${seen.join(", ") || "nothing"})`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(wake);
      };
      waiters.add(wake);
    });

  return {
    ctx,
    states,
    get current() {
      return current();
    },
    stored,
    clock,
    metrics,
    waitForState,
  };
}

/** Problems with `settings` as the sink's own fields, as `settings/path: message` lines. */
export function settingsProblems(definition: SinkDefinition<TObject>, settings: unknown): string[] {
  const validator = validatorOf(definition);
  if (validator.Check(settings)) return [];
  const errors = [...validator.Errors(settings)]
    .filter((e) => e.keyword !== "additionalProperties") // each extra field is reported on its own path
    .map((e) => `settings${e.instancePath}: ${e.keyword === "boolean" ? "unknown field" : e.message}`);
  return [...new Set(errors)];
}

/** One silent root logger; each context gets its own child. */
const silentLog = pino({ level: "silent" });

/** Compiled once per definition: the kit builds a context for every check. */
const compiled = new WeakMap<object, Validator>();

function validatorOf(definition: SinkDefinition<TObject>): Validator {
  let v = compiled.get(definition);
  if (!v) {
    v = Compile(definition.settingsSchema);
    compiled.set(definition, v);
  }
  return v;
}
