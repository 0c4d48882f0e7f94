/**
 * Paces a backlog replay so that it only takes what acquisition leaves over: after each page the
 * replay waits {@link ReplayPacer.next} ms. While the event loop keeps its timers on time and has
 * idle time left, the pause shrinks to nothing and the replay runs flat out; when timers come late
 * (a poll due then would be late, and late past its interval it is a missed sample) or the loop is
 * nearly always busy, the pause doubles, up to {@link MAX_PAUSE_MS}. Additive decrease would be
 * slower to recover; halving gives back the drain rate within a few pages once the load passes.
 *
 * A floor under that ({@link DrainFloor}): while a replay runs, live readings go to the buffer's
 * tail, so a replay paced below their rate would never end and the buffer would fill until it drops.
 * However loaded the loop, a replay never pauses so long that it drains less than
 * {@link MIN_DRAIN_RATIO} times what enters the buffer meanwhile.
 */
import type { LoopLoadSample } from "../core/loop-load.js";

/** Lag above which the replay backs off, in ms: well inside a 100 ms poll interval. */
export const LAG_LIMIT_MS = 8;
/** Event-loop utilization above which the replay backs off: leaves acquisition a tenth. */
export const UTILIZATION_LIMIT = 0.9;
const FIRST_PAUSE_MS = 5;
export const MAX_PAUSE_MS = 250;

export class ReplayPacer {
  private pause = 0;
  private seen = -1;

  /**
   * The pause before the next page, in ms (0: none), given the loop's last window, and at most
   * `ceilingMs` (the drain floor's).
   */
  next(load: LoopLoadSample, ceilingMs = Number.POSITIVE_INFINITY): number {
    return Math.min(this.judge(load), ceilingMs);
  }

  private judge(load: LoopLoadSample): number {
    // Pages are shorter than a window: judge each window once, keep the pause until the next.
    if (load.window === this.seen) return this.pause;
    this.seen = load.window;
    if (load.lagMs > LAG_LIMIT_MS || load.utilization > UTILIZATION_LIMIT) {
      this.pause = Math.min(MAX_PAUSE_MS, Math.max(FIRST_PAUSE_MS, this.pause * 2));
    } else {
      this.pause = this.pause < 2 ? 0 : this.pause / 2;
    }
    return this.pause;
  }
}

/** How much faster than the buffer's inflow a paced replay still drains. */
export const MIN_DRAIN_RATIO = 2;

/** The longest pause after each page that keeps a replay draining {@link MIN_DRAIN_RATIO} × inflow. */
export class DrainFloor {
  private readonly startedAt: number;
  private readonly appendedAtStart: number;
  private pageFrom: number;

  constructor(
    /** Readings appended to the buffer since it opened. */
    private readonly appended: () => number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.startedAt = this.pageFrom = now();
    this.appendedAtStart = appended();
  }

  /** After a page of `readings` went out: the most the replay may pause before the next one, in ms. */
  maxPause(readings: number): number {
    const t = this.now();
    const inflowPerMs = (this.appended() - this.appendedAtStart) / Math.max(1, t - this.startedAt);
    if (inflowPerMs <= 0) return Number.POSITIVE_INFINITY;
    const budgetMs = readings / (MIN_DRAIN_RATIO * inflowPerMs);
    return Math.max(0, budgetMs - (t - this.pageFrom));
  }

  /** The replay goes on after its pause: the next page's time starts now. */
  resumed(): void {
    this.pageFrom = this.now();
  }
}
