/**
 * The adapter conformance kit: checks every adapter must pass, built-in or third-party. It is
 * runner-agnostic: each check is a name and an async `run()` that throws on failure, so it plugs
 * into vitest (`for (const c of adapterConformance(def, fixture)) it(c.name, c.run)`), node:test,
 * or anything else. Every check builds its own instance with `createTestContext` and stops it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Static, TObject } from "typebox";
import type { Adapter, AdapterDefinition, Capability } from "./adapter.js";
import { buildCheck, type SampleDevice } from "./conformance-build.js";
import {
  type CAPABILITY_METHODS,
  capabilityProblems,
  definitionProblems,
  sameValue,
  sampleProblems,
  undocumented,
} from "./conformance-rules.js";
import type { PointConfig } from "./point.js";
import { createTestContext, type TestContext } from "./testing.js";

/** One conformance check: `run()` resolves when the adapter passes and throws an Error saying why when not. */
export interface ConformanceCheck {
  /** What is checked, e.g. `stop() before start() resolves`. */
  name: string;
  /** Runs the check; rejects with an Error listing what is wrong. */
  run(): Promise<void>;
}

/** The device an adapter is checked against: for a protocol adapter, a real peer must be serving it. */
export interface ConformanceFixture<P = unknown> {
  /** The device's `connection` object, as config holds it. */
  settings: unknown;
  /** Points that read as `good` while the device is healthy. At least one is needed for the read checks. */
  points: readonly unknown[];
  /** Points that must read as `bad` or `uncertain`, with a status (a failing sensor, a missing address). */
  faultyPoints?: readonly unknown[];
  /**
   * A value to write to a point, different from its current value. Enables the write checks, which
   * also need at least one `access: readwrite` and one read-only point among `points`.
   */
  writeValue?: (point: PointConfig<P>) => unknown;
  /**
   * More known-good devices for the build check (your example configs, one per transport or
   * identity kind, say). The fixture's own device is always checked, and so are one-field
   * variants of each derived from your schemas; none of them is started.
   */
  samples?: readonly SampleDevice[];
  /** How long to watch for emits after `stop()` resolved, in ms. Default 200. */
  settleMs?: number;
  /** Longest wait for any one adapter call, in ms. Default 5000. */
  timeoutMs?: number;
}

type Method = (typeof CAPABILITY_METHODS)[number];

interface Session<P> {
  tc: TestContext<unknown, P>;
  adapter: Adapter<P>;
  /** The validated `points` of the fixture. */
  healthy: PointConfig<P>[];
  /** The validated `faultyPoints` of the fixture. */
  faulty: PointConfig<P>[];
}

/**
 * Builds the conformance checks of `definition` against the device `fixture` describes. Checks that
 * need a capability (read, write) or fixture data (faulty points, write values) are only included
 * when the adapter has it and the fixture provides it.
 */
export function adapterConformance<C extends TObject, P extends TObject>(
  definition: AdapterDefinition<C, P>,
  fixture: ConformanceFixture<Static<P>>,
): ConformanceCheck[] {
  type S = Session<Static<P>>;
  const can = (c: Capability) => definition.capabilities.includes(c);
  const faultyPoints = fixture.faultyPoints ?? [];
  const timeoutMs = fixture.timeoutMs ?? 5_000;
  const call = <T>(what: string, promise: Promise<T>) => within(promise, timeoutMs, what);

  const open = (): S => {
    const points = [...fixture.points, ...faultyPoints];
    const tc = createTestContext(definition, { settings: fixture.settings, points });
    const all = tc.ctx.points as PointConfig<Static<P>>[];
    const n = fixture.points.length;
    return { tc, adapter: definition.create(tc.ctx), healthy: all.slice(0, n), faulty: all.slice(n) };
  };
  const started = async (fn: (s: S) => Promise<void>) => {
    const s = open();
    try {
      await call("start()", s.adapter.start());
      await fn(s);
    } finally {
      await s.adapter.stop().catch(() => undefined);
    }
  };
  const read = (s: S, points: PointConfig<Static<P>>[]) => call("read()", method(s.adapter, "read")(points));

  const checks: ConformanceCheck[] = [
    {
      name: "definition: type name, sdk range and shape",
      run: async () => assertNone(definitionProblems(definition)),
    },
    {
      name: "schemas: every field has a description",
      run: async () => {
        const missing = [
          ...undocumented(definition.connectionSchema, "connection"),
          ...undocumented(definition.pointSchema, "point"),
        ];
        assertNone(missing.map((path) => `${path} has no description`));
      },
    },
    {
      name: "build: check() never throws, and whatever it accepts create() builds",
      run: async () => {
        const own = { settings: fixture.settings, points: [...fixture.points, ...faultyPoints] };
        const report = buildCheck(definition, [own, ...(fixture.samples ?? [])]);
        if (report.checked === 0) fail("no schema-valid device to check: the fixture's device is invalid");
        assertNone(capped(report.problems, 20));
      },
    },
    {
      name: "capabilities match the adapter's methods",
      run: async () => assertNone(capabilityProblems(definition.capabilities, open().adapter)),
    },
    {
      name: "create() emits nothing and sets no state",
      run: async () => {
        const { tc } = open();
        assertQuiet(tc, "during create()");
        await new Promise((resolve) => setImmediate(resolve));
        assertQuiet(tc, "right after create()");
      },
    },
    { name: "stop() before start() resolves", run: async () => call("stop()", open().adapter.stop()) },
    {
      name: "stop() while start() runs makes start() settle",
      run: async () => {
        const { adapter } = open();
        const starting = settle(adapter.start());
        await call("stop() during start()", adapter.stop());
        await call("start() after stop() was called", starting);
        await adapter.stop().catch(() => undefined);
      },
    },
    {
      name: "start(), stop(), stop() again all resolve",
      run: () =>
        started(async (s) => {
          await call("stop()", s.adapter.stop());
          await call("second stop()", s.adapter.stop());
        }),
    },
    {
      name: "nothing is emitted after stop() resolves",
      run: () =>
        started(async (s) => {
          if (can("read") && s.healthy.length > 0) await read(s, s.healthy);
          await call("stop()", s.adapter.stop());
          const before = s.tc.emitted.length;
          await sleep(fixture.settleMs ?? 200);
          const late = [...new Set(s.tc.emitted.slice(before).map((e) => e.point))];
          if (late.length > 0)
            fail(
              `${s.tc.emitted.length - before} sample(s) emitted after stop() resolved (${late.join(", ")})`,
            );
        }),
    },
  ];

  if (can("read")) {
    checks.push(
      {
        name: "read: one good sample per requested point, each value fits the point's type",
        run: () =>
          started(async (s) => {
            if (s.healthy.length === 0) fail("the fixture has no points to read");
            assertNone(sampleProblems(s.healthy, await read(s, s.healthy), "good"));
            const one = s.healthy.slice(0, 1);
            assertNone(sampleProblems(one, await read(s, one), "good").map((p) => `reading one point: ${p}`));
          }),
      },
      {
        name: "read() rejects after stop()",
        run: () =>
          started(async (s) => {
            await call("stop()", s.adapter.stop());
            const outcome = await call("read() after stop()", settle(method(s.adapter, "read")(s.healthy)));
            if (outcome.ok) fail("read() after stop() resolved; it must reject");
          }),
      },
    );
    if (faultyPoints.length > 0) {
      checks.push({
        name: "read: faulty points are bad or uncertain, with a status",
        run: () =>
          started(async (s) => assertNone(sampleProblems(s.faulty, await read(s, s.faulty), "faulty"))),
      });
    }
  }

  const writeValue = fixture.writeValue;
  if (can("write") && writeValue) {
    checks.push(
      {
        name: "write: a readwrite point takes the value and reads it back",
        run: () =>
          started(async (s) => {
            const targets = s.healthy.filter((p) => p.access === "readwrite");
            if (targets.length === 0) fail("the fixture has no point with access: readwrite");
            for (const point of targets) await writeAndReadBack(s, point, writeValue(point));
          }),
      },
      {
        name: "write: a read-only point rejects the write",
        run: () =>
          started(async (s) => {
            const point = s.healthy.find((p) => p.access !== "readwrite");
            if (!point) fail("the fixture has no read-only point");
            const outcome = await call(
              "write()",
              settle(method(s.adapter, "write")(point, writeValue(point))),
            );
            if (outcome.ok) fail(`write() to read-only point ${point.id} resolved; it must reject`);
          }),
      },
    );
  }
  return checks;

  async function writeAndReadBack(s: S, point: PointConfig<Static<P>>, value: unknown): Promise<void> {
    const readBack = async () => (can("read") ? (await read(s, [point]))[0] : undefined);
    const before = await readBack();
    if (before && sameValue(point, before.value, value)) {
      fail(
        `point ${point.id} already reads ${JSON.stringify(value)}: writeValue must differ, or this check cannot fail`,
      );
    }
    const result = await call("write()", method(s.adapter, "write")(point, value));
    if (typeof result !== "object" || result === null)
      fail(`write() to ${point.id} resolved to ${String(result)}`);
    const after = await readBack();
    if (after && (after.quality ?? "good") !== "good")
      fail(`point ${point.id} read as ${after.quality} after a write`);
    if (after && !sameValue(point, after.value, value)) {
      fail(`point ${point.id} reads ${JSON.stringify(after.value)} after writing ${JSON.stringify(value)}`);
    }
  }
}

/** Fails a check with `message`. */
export function fail(message: string): never {
  throw new Error(message);
}

/** At most `n` lines, then how many more there were. */
function capped(lines: readonly string[], n: number): string[] {
  return lines.length <= n ? [...lines] : [...lines.slice(0, n), `… and ${lines.length - n} more`];
}

/** Fails a check listing `problems`, when there are any. */
export function assertNone(problems: readonly string[]): void {
  if (problems.length > 0) fail(problems.join("\n"));
}

function assertQuiet(tc: TestContext<unknown, unknown>, when: string): void {
  if (tc.emitted.length > 0) fail(`${tc.emitted.length} sample(s) emitted ${when}; create() must do no I/O`);
  if (tc.states.length > 0) fail(`state set to ${tc.states[0]!.state} ${when}; create() must do no I/O`);
}

/** Rejects with a clear message when `promise` does not settle within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const timer = new AbortController();
  const timeout = sleep(ms, undefined, { signal: timer.signal }).then(() =>
    fail(`${what} did not settle within ${ms} ms`),
  );
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    timer.abort();
    timeout.catch(() => undefined);
  }
}

/** Waits for `promise` either way, reporting how it settled. */
export function settle<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** The adapter's `name` method, bound; fails clearly when the declared capability has no method. */
function method<P, M extends Method>(adapter: Adapter<P>, name: M): NonNullable<Adapter<P>[M]> {
  const fn = adapter[name];
  if (typeof fn !== "function") fail(`the adapter declares ${name} but has no ${name}() method`);
  return fn.bind(adapter) as NonNullable<Adapter<P>[M]>;
}
