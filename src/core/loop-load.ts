/**
 * How busy the main event loop is right now, for work that should only use what acquisition
 * leaves over (a north sink's backlog replay). Two signals, each over the last window of
 * {@link LOOP_WINDOW_MS}:
 * - lag: how late a 10 ms timer fired at worst, which
 *   is what a poll due in that window would have waited, whatever kept the loop (our own work,
 *   garbage collection, or the OS giving the core to another thread);
 * - utilization: the share of the window the loop spent running code rather than waiting.
 *
 * One sampler per process, as the loop is: it samples only while someone holds it
 * (`acquire()`), so an idle gateway pays nothing.
 */
import { performance } from "node:perf_hooks";

export const LOOP_WINDOW_MS = 100;
const RESOLUTION_MS = 10;

/** The event loop's load over the last complete window. */
export interface LoopLoadSample {
  /** Worst timer delay beyond its due time in the window, in ms. */
  lagMs: number;
  /** Event-loop utilization in the window, 0–1. */
  utilization: number;
  /** Which window this is (counts up while sampling; 0: none measured yet). */
  window: number;
}

export interface LoopLoad {
  /** Starts sampling (if not yet) for one user; the returned function ends that use. */
  acquire(): () => void;
  /** The last complete window, or zeros when none was measured yet. */
  current(): LoopLoadSample;
}

class MainLoopLoad implements LoopLoad {
  private users = 0;
  private timer: NodeJS.Timeout | undefined;
  private elu = performance.eventLoopUtilization();
  private tickAt = 0;
  private windowAt = 0;
  private worstLagMs = 0;
  private last: LoopLoadSample = { lagMs: 0, utilization: 0, window: 0 };

  acquire(): () => void {
    if (this.users++ === 0) this.begin();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.users === 0) this.end();
    };
  }

  current(): LoopLoadSample {
    return this.last;
  }

  private begin(): void {
    this.elu = performance.eventLoopUtilization();
    this.tickAt = this.windowAt = performance.now();
    this.worstLagMs = 0;
    // Our own timer rather than perf_hooks' delay histogram: resetting that histogram per window
    // loses the interval that follows the reset, so a block right after a window closed went unseen.
    this.timer = setInterval(() => this.tick(), RESOLUTION_MS);
    this.timer.unref();
  }

  private tick(): void {
    const now = performance.now();
    this.worstLagMs = Math.max(this.worstLagMs, now - this.tickAt - RESOLUTION_MS);
    this.tickAt = now;
    if (now - this.windowAt < LOOP_WINDOW_MS) return;
    const elu = performance.eventLoopUtilization(this.elu);
    this.elu = performance.eventLoopUtilization();
    this.windowAt = now;
    this.last = {
      lagMs: Math.max(0, this.worstLagMs),
      utilization: elu.utilization,
      window: this.last.window + 1,
    };
    this.worstLagMs = 0;
  }

  private end(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.last = { lagMs: 0, utilization: 0, window: this.last.window };
  }
}

/** The process's main event loop. */
export const mainLoopLoad: LoopLoad = new MainLoopLoad();
