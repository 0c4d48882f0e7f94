/**
 * Schedules polling of one device: one timer per poll interval (a group of points), ticking on the
 * clock's grid of the interval; reads run one at a time per device, and a group whose previous
 * read is still queued or running skips its tick (an overrun) instead of piling up requests. Each
 * device has its own poller, so a slow device only ever delays itself.
 *
 * Every grid tick of every group, from `open()` to `stop()`, ends in exactly one outcome, so no
 * planned sample goes uncounted: its read ran (the device counts it as a read or a read error),
 * it overran (the previous read still pending), it was missed (its timer never fired because the
 * event loop was busy past it), or it was skipped (not reading: the device was not connected, or
 * declined the read). A tick queued but not yet finished is the only one not counted yet: at most one per group.
 */

/** A set of points polled together at one interval. */
export interface PollGroup<P> {
  intervalMs: number;
  points: readonly P[];
}

/** Why a grid tick was not read: its timer fired too late to run it, or the device could not read. */
export type LostTick = "missed" | "skipped";

/** Groups points by their effective poll interval, shortest first. */
export function pollGroups<P extends { pollIntervalMs?: number }>(
  points: readonly P[],
  defaultMs: number,
): PollGroup<P>[] {
  const byInterval = new Map<number, P[]>();
  for (const p of points) {
    const ms = p.pollIntervalMs ?? defaultMs;
    const list = byInterval.get(ms);
    if (list) list.push(p);
    else byInterval.set(ms, [p]);
  }
  return [...byInterval.entries()]
    .sort(([a], [b]) => a - b)
    .map(([intervalMs, pts]) => ({ intervalMs, points: pts }));
}

/** A monotonic clock in ms since the epoch. */
export interface PollClock {
  now(): number;
}

/** `performance`'s clock: monotonic (a wall-clock step does not shift the grid), in epoch ms. */
const monotonic: PollClock = { now: () => performance.timeOrigin + performance.now() };

/** Optional parts of a poller. */
export interface PollerOptions<P> {
  /** Called with grid ticks that were not read, and why; `count` may be more than one for missed ticks. */
  onLost?: (group: PollGroup<P>, why: LostTick, count: number) => void;
  /**
   * The clock ticks are placed and numbered by; default `performance`'s. Timers still run on
   * `setTimeout`: a test that moves this clock ahead of the timers sees every timer fire late, as
   * after a blocked event loop.
   */
  clock?: PollClock;
  /**
   * Where in each interval this poller's grid lies, as a fraction of the interval in [0, 1): tick `k`
   * of a group is due at `(k + phase) * intervalMs`. 0 (the default) is the shared grid; devices
   * given different phases spread their requests over the interval (`pollPhase: spread`).
   */
  phase?: number;
}

/**
 * The phase of a device under `pollPhase: spread`: a fraction in [0, 1) from a hash of its id,
 * so it is the same on every start and thousands of devices on one interval spread evenly over it.
 */
export function spreadPhase(deviceId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < deviceId.length; i++) h = Math.imul(h ^ deviceId.charCodeAt(i), 0x01000193);
  // FNV-1a alone leaves ids that differ in their last character (cell-1, cell-2) close together:
  // murmur3's finalizer spreads every input bit over the high bits.
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

// Grid ticks are numbered by the multiple of the interval since the epoch: tick `k` of a group is
// due at `(k + phase) * intervalMs`.
const nearestTick = (t: number, ms: number, phase: number) => Math.round(t / ms - phase);

/** Per group: the last tick accounted for, and the timer of the next. */
interface GroupSlot {
  last: number | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** Polls groups until stopped. */
export class Poller<P> {
  private readonly slots = new Map<PollGroup<P>, GroupSlot>();
  private readonly pending = new Set<PollGroup<P>>();
  private chain: Promise<void> = Promise.resolve();
  /** Ticking and accounting (from `open()` or `start()` until `stop()`). */
  private opened = false;
  /** Reading (from `start()` until `pause()` or `stop()`); while open but not active, ticks are skipped. */
  private active = false;
  private readonly onLost: NonNullable<PollerOptions<P>["onLost"]>;
  private readonly clock: PollClock;
  private readonly phase: number;

  constructor(
    private readonly groups: readonly PollGroup<P>[],
    /** Reads a group; resolving to `false` means the device declined it (not connected): a skipped tick. */
    private readonly read: (group: PollGroup<P>) => Promise<unknown>,
    private readonly onOverrun: (group: PollGroup<P>) => void,
    /**
     * Called on every tick of a group while reading, before its read is queued or skipped (e.g. to
     * check staleness), with whether its previous read is still queued or running.
     */
    private readonly onTick: (group: PollGroup<P>, pending: boolean) => void = () => {},
    options: PollerOptions<P> = {},
  ) {
    this.onLost = options.onLost ?? (() => {});
    this.clock = options.clock ?? monotonic;
    this.phase = options.phase ?? 0;
    if (!(this.phase >= 0 && this.phase < 1))
      throw new RangeError(`poll phase ${this.phase} is not in [0, 1)`);
    for (const g of groups) this.slots.set(g, { last: undefined, timer: undefined });
  }

  /**
   * Starts the grid without reading: from the tick nearest to now on, every tick is accounted for,
   * as skipped until `start()`. A device opens its poller when it starts connecting, so the ticks a
   * connection attempt takes are counted too; a connect done before the nearest tick's time is up
   * (half an interval past it) reads that tick. Idempotent.
   */
  open(): void {
    if (this.opened) return;
    this.opened = true;
    const now = this.clock.now();
    for (const g of this.groups) {
      const slot = this.slots.get(g)!;
      const nearest = nearestTick(now, g.intervalMs, this.phase);
      slot.last = nearest - 1; // the nearest is planned, not yet taken
      this.arm(g, nearest, now);
    }
  }

  /**
   * Reads every group once now, then on each group's interval, on the clock's grid of that interval
   * (multiples of it since the epoch, shifted by the phase): devices with the same interval and
   * phase poll in the same instant, so their readings line up in time and their requests go out
   * together, and the period does not drift by the time a read takes. After `pause()` it resumes
   * the same way.
   */
  start(): void {
    if (this.active) return;
    this.opened = true;
    this.active = true;
    for (const g of this.groups) {
      const slot = this.slots.get(g)!;
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = undefined;
      this.tick(g, true);
    }
  }

  /**
   * Stops reading but keeps counting: ticks until the next `start()` are skipped. Resolves once the
   * read in progress, if any, has finished.
   */
  async pause(): Promise<void> {
    this.active = false;
    await this.chain.catch(() => {});
  }

  /**
   * Stops for good: ticks due half an interval or more ago whose timer has not fired are counted
   * (missed, or skipped when paused, as a timer that late would have counted them); a tick due less
   * than that before the stop is not planned. Resolves once the read in progress, if any, has finished.
   */
  async stop(): Promise<void> {
    const now = this.clock.now();
    const wasOpen = this.opened;
    const wasActive = this.active;
    this.active = false;
    this.opened = false;
    for (const [g, slot] of this.slots) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = undefined;
      if (wasOpen && slot.last !== undefined) {
        const overdue = nearestTick(now, g.intervalMs, this.phase) - 1 - slot.last;
        if (overdue > 0) this.onLost(g, wasActive ? "missed" : "skipped", overdue);
      }
      slot.last = undefined; // a later start() begins a new grid
    }
    await this.chain.catch(() => {});
  }

  /**
   * Runs the tick of `group` nearest to now, or the next one if that was already taken (a read
   * right after a restart of polling). Ticks jumped over in between are missed (the timer came
   * late), or skipped when they passed while not reading (`resumed`: the first tick of `start()`).
   */
  private tick(group: PollGroup<P>, resumed = false): void {
    const slot = this.slots.get(group)!;
    const ms = group.intervalMs;
    const now = this.clock.now();
    const nearest = nearestTick(now, ms, this.phase);
    const k = slot.last === undefined ? nearest : Math.max(nearest, slot.last + 1);
    const gap = slot.last === undefined ? 0 : k - slot.last - 1;
    if (gap > 0) this.onLost(group, this.active && !resumed ? "missed" : "skipped", gap);
    slot.last = k;
    this.take(group);
    this.arm(group, k, now);
  }

  /** Sets the timer for the tick after `k`, so two reads of a group are never closer than half an interval. */
  private arm(group: PollGroup<P>, k: number, now: number): void {
    const slot = this.slots.get(group)!;
    slot.timer = setTimeout(
      () => {
        slot.timer = undefined;
        if (this.opened) this.tick(group);
      },
      // +1: a timer counts whole ms from the event loop's cached time, so it may fire up to 1 ms
      // before the grid point; readings then carry the round time rather than xx.999.
      Math.max(0, (k + 1 + this.phase) * group.intervalMs - now) + 1,
    );
  }

  /** The outcome of one tick: queued for reading, an overrun, or skipped. */
  private take(group: PollGroup<P>): void {
    if (!this.active) {
      this.onLost(group, "skipped", 1);
      return;
    }
    const pending = this.pending.has(group);
    this.onTick(group, pending);
    if (pending) {
      this.onOverrun(group);
      return;
    }
    this.pending.add(group);
    this.chain = this.chain.then(async () => {
      if (!this.active) {
        this.pending.delete(group);
        this.onLost(group, "skipped", 1);
        return;
      }
      let declined = false;
      try {
        declined = (await this.read(group)) === false;
      } catch {
        // `read` counts its own failures (a device's read errors); a rejection that escapes it
        // still was a read that ran, and must not end the chain, or no group would be read again.
      } finally {
        this.pending.delete(group);
      }
      if (declined) this.onLost(group, "skipped", 1);
    });
  }
}
