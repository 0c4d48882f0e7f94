/**
 * Schedules polling of one device: one timer per poll interval (a group of points), ticking on the
 * clock's grid of the interval; reads run one at a time per device, and a group whose previous
 * read is still queued or running skips its tick (an overrun) instead of piling up requests. Each
 * device has its own poller, so a slow device only ever delays itself.
 */

/** A set of points polled together at one interval. */
export interface PollGroup<P> {
  intervalMs: number;
  points: readonly P[];
}

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

/** The first multiple of `ms` since the epoch after `t` (both on the performance.now() clock). */
function onGrid(t: number, ms: number): number {
  const origin = performance.timeOrigin;
  return (Math.floor((origin + t) / ms) + 1) * ms - origin;
}

/** Polls groups until stopped. */
export class Poller<P> {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pending = new Set<PollGroup<P>>();
  private chain: Promise<void> = Promise.resolve();
  private running = false;

  constructor(
    private readonly groups: readonly PollGroup<P>[],
    private readonly read: (group: PollGroup<P>) => Promise<void>,
    private readonly onOverrun: () => void,
    /**
     * Called on every tick of a group, before its read is queued or skipped (e.g. to check
     * staleness), with whether its previous read is still queued or running.
     */
    private readonly onTick: (group: PollGroup<P>, pending: boolean) => void = () => {},
  ) {}

  /**
   * Reads every group once now, then on each group's interval, on the clock's grid of that interval
   * (multiples of it since the epoch): devices with the same interval poll in the same instant, so
   * their readings line up in time and their requests go out together, and the period does not
   * drift by the time a read takes.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const g of this.groups) this.schedule(g, performance.now());
  }

  private schedule(group: PollGroup<P>, due: number): void {
    this.tick(group);
    // The grid point after half an interval from now: never two reads closer than that.
    const next = onGrid(due + group.intervalMs / 2, group.intervalMs);
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (this.running) this.schedule(group, Math.max(next, performance.now() - group.intervalMs));
      },
      // +1: a timer counts whole ms from the event loop's cached time, so it may fire up to 1 ms
      // before the grid point; readings then carry the round time rather than xx.999.
      Math.max(0, next - performance.now()) + 1,
    );
    this.timers.add(timer);
  }

  private tick(group: PollGroup<P>): void {
    this.onTick(group, this.pending.has(group));
    if (this.pending.has(group)) {
      this.onOverrun();
      return;
    }
    this.pending.add(group);
    this.chain = this.chain.then(async () => {
      try {
        if (this.running) await this.read(group);
      } finally {
        this.pending.delete(group);
      }
    });
  }

  /** Stops scheduling and resolves once the read in progress, if any, has finished. */
  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.chain.catch(() => {});
  }
}
