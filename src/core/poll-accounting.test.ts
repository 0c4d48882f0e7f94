/**
 * The poller's accounting under controlled time: every grid tick of every group, from open() to
 * stop(), ends as exactly one of read / overrun / missed / skipped, including ticks a late timer
 * (a blocked event loop) jumped over. Timers run on vitest's fake clock; the poller's own clock is
 * injected and can be moved ahead of the timers (`block`), so every timer due then fires late, as
 * after a long synchronous task.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type LostTick, Poller, type PollGroup } from "./poller.js";

/** 17 ms past a multiple of 1000 ms since the epoch: off every grid on purpose. */
const EPOCH = Date.UTC(2026, 0, 1) + 17;

let lag = 0;
const clock = { now: () => performance.timeOrigin + performance.now() + lag };
/** A synchronous task of `ms`: the poller's clock moves on while no timer fires; each fires late. */
const block = (ms: number) => {
  lag += ms;
};

beforeEach(() => {
  lag = 0;
  vi.useFakeTimers({ now: EPOCH, toFake: ["setTimeout", "clearTimeout", "performance", "Date"] });
});
afterEach(() => {
  vi.useRealTimers();
});

type Outcome = "read" | "overrun" | LostTick;
type Tally = Record<Outcome, number>;

/** A poller over `groups` whose outcomes are tallied per group; reads take `readMs` of fake time. */
function harness(intervals: number[], phase = 0) {
  const groups: PollGroup<string>[] = intervals.map((intervalMs) => ({ intervalMs, points: [] }));
  const tallies = new Map<PollGroup<string>, Tally>(
    groups.map((g) => [g, { read: 0, overrun: 0, missed: 0, skipped: 0 }]),
  );
  const knobs = { readMs: new Map<PollGroup<string>, number>(), decline: false, readAt: [] as number[] };
  const poller = new Poller<string>(
    groups,
    async (g) => {
      if (knobs.decline) return false; // the device is not connected: a skipped tick
      knobs.readAt.push(clock.now());
      tallies.get(g)!.read++;
      await new Promise((r) => setTimeout(r, knobs.readMs.get(g) ?? 0));
      return true;
    },
    (g) => tallies.get(g)!.overrun++,
    undefined,
    { clock, phase, onLost: (g, why, n) => (tallies.get(g)![why] += n) },
  );
  const tally = (i: number) => tallies.get(groups[i]!)!;
  return { groups, poller, knobs, tally };
}

/** Moves fake time (and the poller's clock with it) by `ms`, running due timers and reads. */
const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

/** Stops `poller`, letting the read in flight finish on the fake clock; returns the stop's time. */
async function stop(poller: Poller<string>): Promise<number> {
  const at = clock.now();
  const done = poller.stop();
  await advance(1000);
  await done;
  return at;
}

/** The grid ticks of an interval (and phase) from the one nearest to `from` to the last due at `to` (epoch ms). */
const planned = (ms: number, from: number, to: number, phase = 0) =>
  Math.floor(to / ms - phase) - Math.round(from / ms - phase) + 1;

const sum = (t: Tally) => t.read + t.overrun + t.missed + t.skipped;

describe("poll accounting", () => {
  it("a timer 1 s late counts the ticks it jumped over as missed, then reads on the grid again", async () => {
    const { poller, tally, knobs } = harness([100]);
    poller.start(); // at phase 17: stands for the grid point 17 ms ago
    await advance(50);
    block(1000); // the timer due at phase 100 (+1 ms) fires 1000 ms late
    await advance(34);
    // The ticks at +100 … +1000 never ran; the late timer reads the tick at +1100, 1 ms past it.
    expect(tally(0)).toEqual({ read: 2, overrun: 0, missed: 10, skipped: 0 });
    await advance(300);
    expect(tally(0)).toEqual({ read: 5, overrun: 0, missed: 10, skipped: 0 });
    // After the late one, reads are back on the grid: 1 ms past each multiple of 100 ms.
    expect(knobs.readAt.slice(1).map((t) => t % 100)).toEqual([1, 1, 1, 1]);
    await stop(poller);
  });

  it("a timer less than half an interval late still reads its own tick: nothing missed", async () => {
    const { poller, tally } = harness([100]);
    poller.start();
    await advance(50);
    block(40);
    await advance(34);
    expect(tally(0)).toEqual({ read: 2, overrun: 0, missed: 0, skipped: 0 });
    await stop(poller);
  });

  it("ticks of an opened poller that does not read yet are skipped; start reads the next tick at once", async () => {
    const { poller, tally, knobs } = harness([100]);
    const t0 = clock.now();
    poller.open(); // the device is connecting
    await advance(1000);
    expect(tally(0)).toEqual({ read: 0, overrun: 0, missed: 0, skipped: 11 });
    poller.start(); // connected, at phase 17: the tick at phase 0 was skipped, so this read is the next's
    await advance(0);
    expect(tally(0).read).toBe(1);
    await advance(400);
    expect(knobs.readAt.slice(1).map((t) => t % 100)).toEqual([1, 1, 1]);
    await advance(13); // to phase 30
    const t1 = await stop(poller);
    // Skipped: the ticks at +0 … +1000 ms; read: +1100 (early, at start), +1200, +1300, +1400.
    expect(tally(0)).toEqual({ read: 4, overrun: 0, missed: 0, skipped: 11 });
    expect(sum(tally(0))).toBe(planned(100, t0, t1));
  });

  it("a connect within half an interval of opening reads the nearest tick: nothing skipped", async () => {
    const { poller, tally } = harness([100]);
    poller.open(); // phase 17
    await advance(20); // connected at phase 37
    poller.start();
    await advance(200);
    expect(tally(0)).toEqual({ read: 3, overrun: 0, missed: 0, skipped: 0 });
    await stop(poller);
  });

  it("ticks a blocked loop jumps over while not reading are skipped, not missed", async () => {
    const { poller, tally } = harness([100]);
    poller.open();
    await advance(50);
    block(1000);
    await advance(100);
    expect(tally(0)).toEqual({ read: 0, overrun: 0, missed: 0, skipped: 12 });
    await stop(poller);
  });

  it("while paused every tick is skipped (not an overrun), and pause waits for the read in flight", async () => {
    const { poller, tally, knobs, groups } = harness([100]);
    knobs.readMs.set(groups[0]!, 250);
    poller.start();
    await advance(1); // the first read runs
    let paused = false;
    void poller.pause().then(() => (paused = true));
    await advance(200);
    expect(paused).toBe(false); // the first read still runs
    await advance(50);
    expect(paused).toBe(true);
    expect(tally(0)).toEqual({ read: 1, overrun: 0, missed: 0, skipped: 2 });
    await stop(poller);
  });

  it("a stop right after a blocked loop counts the ticks that came due as missed", async () => {
    const { poller, tally } = harness([100]);
    const t0 = clock.now();
    poller.start();
    await advance(10);
    block(560);
    const t1 = await stop(poller);
    expect(tally(0)).toEqual({ read: 1, overrun: 0, missed: 5, skipped: 0 });
    expect(sum(tally(0))).toBe(planned(100, t0, t1));
  });

  it("a read that rejects does not end polling", async () => {
    let calls = 0;
    const p = new Poller(
      [{ intervalMs: 100, points: [] }],
      async () => {
        calls++;
        throw new Error("escaped");
      },
      () => {},
      undefined,
      { clock },
    );
    p.start();
    await advance(250);
    expect(calls).toBe(3);
    await p.stop();
  });

  // Phase 0.3: the grids at 30 past each 100 ms and 75 past each 250 ms (pollPhase: spread).
  it.each([0, 0.3])(
    "every grid tick of every group is exactly one of read, overrun, missed or skipped (phase %s)",
    async (phase) => {
      const { poller, tally, knobs, groups } = harness([100, 250], phase);
      const [fast, slow] = groups as [PollGroup<string>, PollGroup<string>];
      knobs.readMs.set(fast, 20);
      knobs.readMs.set(slow, 40);
      const t0 = clock.now();
      poller.open(); // connecting
      await advance(330);
      poller.start(); // connected
      await advance(1000);
      knobs.readMs.set(fast, 260); // the device answers slowly: overruns
      await advance(600);
      knobs.readMs.set(fast, 20);
      await advance(400);
      block(1000); // a long synchronous task: late timers, missed ticks
      await advance(500);
      knobs.decline = true; // the adapter reports disconnected: reads are declined, skipped
      await advance(700);
      knobs.decline = false;
      await poller.pause(); // restarting after a failure
      await advance(450);
      poller.start();
      await advance(333);
      block(2550);
      await advance(1000);
      block(130);
      await advance(77);
      // Stop 30 ms past a tick of both grids (a multiple of 500 ms plus the phase's offset of the
      // 100 ms grid), where no tick is half taken.
      const at = 30 + phase * 100;
      await advance((((500 + at - (clock.now() % 500)) % 500) + 500) % 500);
      const t1 = await stop(poller);
      for (const [i, ms] of [100, 250].entries())
        expect({ interval: ms, accounted: sum(tally(i)) }).toEqual({
          interval: ms,
          accounted: planned(ms, t0, t1, phase),
        });
      // Every outcome happened, so each kind was put to the test.
      const fastTally = tally(0);
      for (const kind of ["read", "overrun", "missed", "skipped"] as const)
        expect(fastTally[kind]).toBeGreaterThan(0);
      expect(tally(1).missed).toBeGreaterThan(0);
      expect(tally(1).skipped).toBeGreaterThan(0);
    },
  );
});
