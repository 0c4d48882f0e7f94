/**
 * Test helpers for adapter authors: a complete `AdapterContext` built from plain settings and
 * points, validated against the adapter's own schemas the way the gateway validates config, with a
 * silent logger, a settable clock, in-memory metrics, and everything emitted recorded.
 */
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { Static, TObject } from "typebox";
import { Compile, type Validator } from "typebox/compile";
import type {
  AdapterContext,
  AdapterDefinition,
  Clock,
  Counter,
  Gauge,
  Metrics,
  ReportedState,
  Sample,
} from "./adapter.js";
import { DEFAULT_RECONNECT, type PointConfig, pointSchemaFor } from "./point.js";

/** Default start of a `FakeClock`: 2025-01-01T00:00:00.000Z. */
export const FAKE_CLOCK_START = Date.UTC(2025, 0, 1);

/** A clock that only moves when told to. */
export class FakeClock implements Clock {
  #now: number;

  /** Starts at `startMs` (epoch ms), by default `FAKE_CLOCK_START`. */
  constructor(startMs: number = FAKE_CLOCK_START) {
    this.#now = startMs;
  }

  /** The current fake time, in epoch ms. */
  now(): number {
    return this.#now;
  }

  /** Sets the time to `ms` (epoch ms). */
  set(ms: number): void {
    this.#now = ms;
  }

  /** Moves the time forward by `ms`. */
  advance(ms: number): void {
    this.#now += ms;
  }
}

const METRIC_NAME = /^[a-z][a-z0-9_]*$/;

/** Metrics kept in memory, so a test can assert on them. Names must be snake_case, as the core requires. */
export class MemoryMetrics implements Metrics {
  /** Counter totals by name. */
  readonly counters = new Map<string, number>();
  /** Last gauge values by name. */
  readonly gauges = new Map<string, number>();

  /** Registers (or returns) a counter; throws on a name that is not snake_case. */
  counter(name: string, _help: string): Counter {
    checkMetricName(name);
    if (!this.counters.has(name)) this.counters.set(name, 0);
    return { inc: (by = 1) => this.counters.set(name, (this.counters.get(name) ?? 0) + by) };
  }

  /** Registers (or returns) a gauge; throws on a name that is not snake_case. */
  gauge(name: string, _help: string): Gauge {
    checkMetricName(name);
    return { set: (value) => this.gauges.set(name, value) };
  }
}

function checkMetricName(name: string): void {
  if (!METRIC_NAME.test(name)) throw new Error(`metric name ${JSON.stringify(name)} is not snake_case`);
}

/** What `createTestContext` builds the context from. */
export interface TestContextOptions {
  /** The device's `connection` object, as config would hold it (defaults are applied). */
  settings: unknown;
  /** The device's points, as config would hold them (defaults are applied). */
  points: readonly unknown[];
  /** Clock to inject; a new `FakeClock` by default. */
  clock?: Clock;
  /** The device's reconnect backoff; default `{ minMs: 1000, maxMs: 30000 }`, as the core's. */
  reconnect?: { minMs: number; maxMs: number };
  /** Device id; default `test-device`. */
  device?: string;
  /** Gateway id; default `test-gateway`. */
  gateway?: string;
}

/** A state change an adapter reported through `ctx.setState`. */
export interface RecordedState {
  /** The state reported. */
  state: ReportedState;
  /** The reason given with it, if any. */
  reason: string | undefined;
}

/** A context for one adapter instance, and what the adapter did with it. */
export interface TestContext<C, P> {
  /** Pass this to `definition.create()`. */
  ctx: AdapterContext<C, P>;
  /** Every sample passed to `ctx.emit`, in order, including any emitted after `stop()` (the core would drop those). */
  emitted: Sample[];
  /** Every `ctx.setState` call, in order. */
  states: RecordedState[];
  /** Every `ctx.markStale` call, in order: the point ids given, or `"pushed"` when none were. */
  stale: (readonly string[] | "pushed")[];
  /** The injected clock: the `FakeClock` created by default, or the one given. */
  clock: Clock;
  /** The injected metrics. */
  metrics: MemoryMetrics;
}

/**
 * Builds an `AdapterContext` for `definition` from plain settings and points. Validates the
 * settings against the connection schema and each point against the core point fields plus the
 * adapter's point schema, after applying defaults; throws one Error listing every problem with its
 * path. The data directory is a fresh path under the OS temp directory that is not created.
 */
export function createTestContext<C extends TObject, P extends TObject>(
  definition: AdapterDefinition<C, P>,
  options: TestContextOptions,
): TestContext<Static<C>, Static<P>> {
  const problems: string[] = [];
  const { connection, point } = validatorsOf(definition);
  const settings = validated(connection, options.settings, "settings", problems);
  const points = options.points.map((p, i) => validated(point, p, `points[${i}]`, problems));
  problems.push(...duplicateIds(points));
  if (problems.length > 0) {
    throw new Error(`invalid ${definition.type} test configuration:\n  ${problems.join("\n  ")}`);
  }
  const device = options.device ?? "test-device";
  const gateway = options.gateway ?? "test-gateway";
  const emitted: Sample[] = [];
  const states: RecordedState[] = [];
  const stale: (readonly string[] | "pushed")[] = [];
  const clock = options.clock ?? new FakeClock();
  const metrics = new MemoryMetrics();
  const root = join(tmpdir(), `tagbridge-test-${randomUUID()}`, gateway);
  const ctx: AdapterContext<Static<C>, Static<P>> = {
    gateway,
    device,
    log: silentLog.child({ adapter: definition.type, device }),
    settings: settings as Static<C>,
    points: points as PointConfig<Static<P>>[],
    emit: (samples) => {
      emitted.push(...samples);
    },
    setState: (state, reason) => {
      states.push({ state, reason });
    },
    markStale: (ids) => {
      stale.push(ids ? [...ids] : "pushed");
    },
    reconnect: options.reconnect ?? DEFAULT_RECONNECT,
    clock,
    metrics,
    dataDir: join(root, "devices", device),
    sharedDir: join(root, "adapters", definition.type),
  };
  return { ctx, emitted, states, stale, clock, metrics };
}

/** One silent root logger; each context gets its own child. */
const silentLog = pino({ level: "silent" });

/** Compiled once per definition: the build check makes a context for every variant it tries. */
const compiled = new WeakMap<object, { connection: Validator; point: Validator }>();

function validatorsOf(definition: AdapterDefinition<TObject, TObject>) {
  let v = compiled.get(definition);
  if (!v) {
    v = {
      connection: Compile(definition.connectionSchema),
      point: Compile(pointSchemaFor(definition.pointSchema)),
    };
    compiled.set(definition, v);
  }
  return v;
}

/** A copy of `input` with defaults applied; its problems, as `where/path: message`, go to `problems`. */
function validated(validator: Validator, input: unknown, where: string, problems: string[]): unknown {
  const value = validator.Default(structuredClone(input));
  if (validator.Check(value)) return value;
  const errors = [...validator.Errors(value)]
    .filter((e) => e.keyword !== "additionalProperties") // each extra field is reported on its own path
    .map((e) => `${where}${e.instancePath}: ${e.keyword === "boolean" ? "unknown field" : e.message}`);
  problems.push(...new Set(errors));
  return value;
}

function duplicateIds(points: readonly unknown[]): string[] {
  const seen = new Set<unknown>();
  const problems: string[] = [];
  for (const [i, p] of points.entries()) {
    const id = (p as { id?: unknown } | null)?.id;
    if (id !== undefined && seen.has(id))
      problems.push(`points[${i}]/id: duplicate point id ${JSON.stringify(id)}`);
    seen.add(id);
  }
  return problems;
}
