/**
 * How a device's outage shows in the log: a warning when it starts or its reason changes, then,
 * while it lasts, again at most once a minute with the attempt count, so a long outage stays
 * visible without a line per retry.
 */
import type { Logger } from "pino";

const STILL_FAILING_LOG_MS = 60_000;

/** Two reasons are the same outage when they differ only in numbers (ports, delays, counts). */
function sameFailure(a: string, b: string): boolean {
  return a.replace(/\d+/g, "#") === b.replace(/\d+/g, "#");
}

export class OutageLog {
  private reason: string | undefined;
  private lastWarnMs = 0;
  private failures = 0;

  constructor(private readonly log: Logger) {}

  /** A failed attempt or a lost connection, at `nowMs`. */
  failed(reason: string, retryMs: number | undefined, nowMs: number): void {
    this.failures++;
    const retry = retryMs === undefined ? "" : `; retrying in ${retryMs} ms`;
    if (this.reason === undefined || !sameFailure(this.reason, reason)) {
      this.log.warn(`${reason}${retry}`);
      this.lastWarnMs = nowMs;
    } else if (nowMs - this.lastWarnMs >= STILL_FAILING_LOG_MS) {
      this.log.warn(`still disconnected after ${this.failures} attempts: ${reason}${retry}`);
      this.lastWarnMs = nowMs;
    } else this.log.debug(`${reason}${retry}`);
    this.reason = reason;
  }

  /** The device is connected: the next failure starts a new outage. */
  ended(): void {
    this.reason = undefined;
    this.failures = 0;
  }
}
