/**
 * Paces a backlog replay so that it only takes what acquisition leaves over: after each page the
 * replay waits {@link ReplayPacer.next} ms. While the event loop keeps its timers on time and has
 * idle time left, the pause shrinks to nothing and the replay runs flat out; when timers come late
 * (a poll due then would be late, and late past its interval it is a missed sample) or the loop is
 * nearly always busy, the pause doubles, up to {@link MAX_PAUSE_MS}. Additive decrease would be
 * slower to recover; halving gives back the drain rate within a few pages once the load passes.
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

  /** The pause before the next page, in ms (0: none), given the loop's last window. */
  next(load: LoopLoadSample): number {
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
