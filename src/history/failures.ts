/**
 * Counts history failures and logs them at most every 10 s (with how many were not logged), so a
 * failing disk or a dead worker shows in the log without flooding it at the reading rate.
 */
import type { Logger } from "pino";

/** Failures are logged at most this often; the rest are counted. */
const LOG_INTERVAL_MS = 10_000;

/** A failure counter with a rate-limited warning per failure. */
export class Failures {
  /** Failures counted since creation. */
  count = 0;
  private lastLog = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(private readonly log: Logger) {}

  /** Counts one failure of `what` and logs it unless one was logged in the last 10 s. */
  failed(what: string, error: unknown, context: Record<string, unknown> = {}): void {
    this.count++;
    const now = Date.now();
    if (now - this.lastLog < LOG_INTERVAL_MS) {
      this.suppressed++;
      return;
    }
    this.log.warn({ err: error, ...context, suppressed: this.suppressed }, `history ${what} failed`);
    this.lastLog = now;
    this.suppressed = 0;
  }
}
