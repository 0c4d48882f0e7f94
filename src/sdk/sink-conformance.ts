/**
 * The sink conformance kit: checks every sink must pass, built-in or third-party, against a real
 * peer. Runner-agnostic like the adapter kit: each check is a name and an async `run()` that
 * throws on failure (`for (const c of sinkConformance(def, fixture)) it(c.name, c.run)`). Every
 * check builds its own instance with `createSinkTestContext`, publishes readings of devices no
 * other check uses, and stops the instance; a check that stops the peer starts it again.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Static, TObject } from "typebox";
import type { Reading } from "../schema/reading.js";
import { assertNone, type ConformanceCheck, fail, settle, within } from "./conformance.js";
import { undocumented } from "./conformance-rules.js";
import type { Sink, SinkCapability, SinkDefinition } from "./sink.js";
import {
  countReceived,
  deliveryProblems,
  encodeBatches,
  instanceCapabilities,
  instanceCapabilityProblems,
  type KitOrdering,
  kitReadings,
  missingCount,
  type ReceivedReading,
  sinkDefinitionProblems,
  sinkShapeProblems,
} from "./sink-conformance-rules.js";
import { createSinkTestContext, type SinkTestContext, settingsProblems } from "./sink-testing.js";

/**
 * The peer a sink is checked against, and how the kit drives it. The kit reads `settings` at each
 * check, so it may be a getter over a port known only once the peer runs; but when the definition
 * has `capabilitiesFor`, it also reads them once when it builds the checks, to know which
 * capability checks apply, so they must then be readable at that time already.
 */
export interface SinkConformanceFixture {
  /** The sink's own settings (its config fields besides the core ones), pointing at the peer. */
  settings: unknown;
  /**
   * Every reading the peer has received so far, in the order it received them, decoded from what
   * was sent (`decodeBatchPayload` decodes the core's batch payloads). Cumulative: the kit only
   * looks at the readings of its own checks.
   */
  received(): Promise<readonly ReceivedReading[]>;
  /** Makes the peer unreachable: stops listening and drops every connection. */
  stopPeer(): Promise<void>;
  /** Serves again at the same address, after `stopPeer()`. */
  startPeer(): Promise<void>;
  /**
   * Optional: how many connections (or requests) the peer has seen so far, so the kit can tell
   * that `create()` made none.
   */
  contacts?(): number | Promise<number>;
  /**
   * The order first arrivals are checked in. `device` (default): in seq order within each device.
   * `point`: within each point only, for a protocol whose device birth certificate carries a new
   * metric's value ahead of the data of other metrics published before it (Sparkplug B's DBIRTH,
   * where every metric carries its own timestamp). Not for a sink that merely reorders.
   */
  ordering?: KitOrdering;
  /** Longest wait for one sink call, and for published readings to arrive, in ms. Default 5000. */
  timeoutMs?: number;
  /** Longest wait for the sink to report `connected` or `disconnected`, in ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Most time `stop()` may take, in ms, even with the peer down. Default 5000. */
  stopTimeoutMs?: number;
  /**
   * How long to watch, in ms: for readings arriving after `stop()` resolved, and (with `ack`) for a
   * publish to a stopped peer wrongly resolving. Default 500.
   */
  settleMs?: number;
}

interface Session<S> {
  tc: SinkTestContext<S>;
  sink: Sink;
}

/**
 * Builds the conformance checks of `definition` against the peer `fixture` describes. Checks of a
 * capability (ack, replay, batch) are included when an instance with the fixture's settings has
 * it (`capabilitiesFor`, or else the definition's `capabilities`).
 */
export function sinkConformance<S extends TObject>(
  definition: SinkDefinition<S>,
  fixture: SinkConformanceFixture,
): ConformanceCheck[] {
  type Ses = Session<Static<S>>;
  const caps = instanceCapabilities(definition, definition.capabilitiesFor ? fixture.settings : undefined);
  const can = (c: SinkCapability) => caps.includes(c);
  const timeoutMs = fixture.timeoutMs ?? 5_000;
  const connectMs = fixture.connectTimeoutMs ?? 10_000;
  const stopMs = fixture.stopTimeoutMs ?? 5_000;
  const settleMs = fixture.settleMs ?? 500;
  const call = <T>(what: string, promise: Promise<T>) => within(promise, timeoutMs, what);
  const stopWithin = (s: Ses, what = "stop()") => within(s.sink.stop(), stopMs, what);

  // Readings of each check: devices named after the check, seq numbers never reused in this kit.
  const run = randomBytes(3).toString("hex");
  let checkNo = 0;
  let nextSeq = 1;
  const readings = (n: number, devices = 2) => {
    const r = kitReadings(`kit${run}-${++checkNo}`, nextSeq, n, devices);
    nextSeq += n;
    return r;
  };

  const open = (): Ses => {
    const tc = createSinkTestContext(definition, fixture.settings);
    return { tc, sink: definition.create(tc.ctx) };
  };
  const connected = async (fn: (s: Ses) => Promise<void>) => {
    const s = open();
    try {
      await call("start()", s.sink.start());
      await s.tc.waitForState("connected", connectMs);
      await fn(s);
    } finally {
      await s.sink.stop().catch(() => undefined);
    }
  };
  /** Runs `fn` with the peer stopped, and starts the peer again whatever happens. */
  const peerDown = async (fn: () => Promise<void>) => {
    await fixture.stopPeer();
    try {
      await fn();
    } finally {
      await fixture.startPeer();
    }
  };
  /** Waits until everything in `published` arrived, or the deadline; then asserts how it arrived. */
  const arrived = async (published: readonly Reading[], expect: { historical: boolean }) => {
    const marks = { ...expect, checkMarks: can("replay"), ordering: fixture.ordering ?? "device" };
    const deadline = Date.now() + timeoutMs;
    while (missingCount(published, await fixture.received()) > 0 && Date.now() < deadline) await sleep(20);
    assertNone(deliveryProblems(published, await fixture.received(), marks));
  };
  const countOf = async (published: readonly Reading[]) => countReceived(published, await fixture.received());

  const checks: ConformanceCheck[] = [
    {
      name: "definition: type name, sdk range, capabilities and schema shape",
      run: async () => assertNone(sinkDefinitionProblems(definition)),
    },
    {
      name: "settings: every field has a description",
      run: async () =>
        assertNone(undocumented(definition.settingsSchema, "settings").map((p) => `${p} has no description`)),
    },
    {
      name: "settings: the fixture's settings are valid, check() accepts them, capabilitiesFor() is within capabilities",
      run: async () => {
        assertNone(settingsProblems(definition, fixture.settings));
        assertNone(instanceCapabilityProblems(definition, fixture.settings));
        const problems = definition.check?.(fixture.settings as Static<S>) ?? [];
        assertNone(problems.map((p) => `check(): ${p.path.join(".")}: ${p.message}`));
      },
    },
    {
      name: "shape: start, stop and publish; batching exactly with the batch capability",
      run: async () => assertNone(sinkShapeProblems(caps, open().sink)),
    },
    {
      name: "create() does no I/O",
      run: async () => {
        const before = { contacts: await fixture.contacts?.(), received: (await fixture.received()).length };
        const { tc } = open();
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (tc.states.length > 0)
          fail(`state set to ${tc.states[0]!.state} by create(); create() must do no I/O`);
        const contacts = await fixture.contacts?.();
        if (contacts !== before.contacts)
          fail(`the peer saw ${Number(contacts) - Number(before.contacts)} contact(s) after create() alone`);
        if ((await fixture.received()).length !== before.received)
          fail("the peer received readings after create()");
      },
    },
    { name: "stop() before start() resolves", run: async () => stopWithin(open(), "stop() before start()") },
    {
      name: "start() resolves while the peer is down, reports disconnected, then connected once the peer is back",
      run: async () => {
        const s = open();
        try {
          await peerDown(async () => {
            await call("start() with the peer down", s.sink.start());
            await s.tc.waitForState("disconnected", connectMs);
            const early = s.tc.states.findIndex((x) => x.state === "connected");
            if (early >= 0) fail("the sink reported connected while the peer was down");
          });
          await s.tc.waitForState("connected", connectMs);
          const batch = readings(4);
          await call("publish() after the peer came back", s.sink.publish(batch, { historical: false }));
          await arrived(batch, { historical: false });
        } finally {
          await s.sink.stop().catch(() => undefined);
        }
      },
    },
    {
      name: "publish while connected delivers every reading, in seq order per device",
      run: () =>
        connected(async (s) => {
          const all = readings(36, 3);
          for (let i = 0; i < all.length; i += 12)
            await call("publish()", s.sink.publish(all.slice(i, i + 12), { historical: false }));
          await arrived(all, { historical: false });
        }),
    },
    {
      name: "stop() is idempotent: start(), stop(), stop() again resolve within the bound",
      run: () =>
        connected(async (s) => {
          await stopWithin(s);
          await stopWithin(s, "second stop()");
        }),
    },
    {
      name: "stop() resolves within the bound while the peer is down, a publish pending",
      run: () =>
        connected(async (s) =>
          peerDown(async () => {
            void settle(s.sink.publish(readings(3), { historical: false }));
            await stopWithin(s, "stop() with the peer down");
          }),
        ),
    },
    {
      name: "nothing arrives after stop() resolved, nor from a publish() after it",
      run: () =>
        connected(async (s) => {
          const inFlight = readings(12);
          void settle(s.sink.publish(inFlight, { historical: false }));
          const b = s.sink.batching;
          const batched = readings(12);
          if (b) void settle(b.publish(encodeBatches(batched, b.policy), { historical: false }));
          await stopWithin(s);
          const atStop = await countOf([...inFlight, ...batched]);
          const late = readings(3);
          void settle(s.sink.publish(late, { historical: false }));
          await sleep(settleMs);
          const after = await countOf([...inFlight, ...batched]);
          if (after !== atStop)
            fail(`${after - atStop} reading(s) arrived after stop() resolved (watched for ${settleMs} ms)`);
          if ((await countOf(late)) > 0) fail("a publish() after stop() delivered readings");
        }),
    },
  ];

  if (can("ack")) {
    checks.push({
      name: "ack: a publish while the peer is gone never resolves as delivered",
      run: () =>
        connected(async (s) =>
          peerDown(async () => {
            const attempts = [
              { what: "publish()", outcome: settle(s.sink.publish(readings(3), { historical: false })) },
            ];
            const b = s.sink.batching;
            if (b) {
              const batches = encodeBatches(readings(3), b.policy);
              attempts.push({
                what: "batching.publish()",
                outcome: settle(b.publish(batches, { historical: false })),
              });
            }
            const watch = sleep(settleMs).then(() => "pending" as const);
            for (const { what, outcome } of attempts) {
              const first = await Promise.race([outcome, watch]);
              if (first !== "pending" && first.ok)
                fail(`${what} resolved while the peer was stopped: an ack sink must reject (or not settle)`);
            }
            await stopWithin(s);
          }),
        ),
    });
  }

  if (can("replay")) {
    checks.push({
      name: "replay: readings published with historical: true arrive marked historical",
      run: () =>
        connected(async (s) => {
          const replayed = readings(10);
          await call("publish() of historical readings", s.sink.publish(replayed, { historical: true }));
          await arrived(replayed, { historical: true });
          const b = s.sink.batching;
          if (b) {
            const batched = readings(10);
            const batches = encodeBatches(batched, b.policy);
            await call("batching.publish() of historical batches", b.publish(batches, { historical: true }));
            await arrived(batched, { historical: true });
          }
        }),
    });
  }

  if (can("batch")) {
    checks.push({
      name: "batch: batching.publish() of encoded batches delivers their readings in order",
      run: () =>
        connected(async (s) => {
          const b = s.sink.batching;
          if (!b) fail("capability batch is declared but the sink has no batching");
          const all = readings(60, 3);
          const batches = encodeBatches(all, { ...b.policy, maxReadings: Math.min(b.policy.maxReadings, 8) });
          if (batches.length < 2) fail("the kit needs several batches; the policy made one");
          await call("batching.publish()", b.publish(batches.slice(0, 2), { historical: false }));
          await call("batching.publish()", b.publish(batches.slice(2), { historical: false }));
          await arrived(all, { historical: false });
        }),
    });
  }
  return checks;
}
