/**
 * The gateway's reading sequence. It starts at the start time in microseconds and counts up by
 * one, so it is strictly increasing within a run and, without any persisted state, across
 * restarts too as long as the gateway averaged under one million readings per second.
 */
export class Sequence {
  private last: number;

  constructor(nowMs: number = Date.now()) {
    this.last = Math.floor(nowMs) * 1000;
  }

  next(): number {
    return ++this.last;
  }

  /** The last number handed out. */
  current(): number {
    return this.last;
  }
}
