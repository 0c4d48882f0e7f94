/**
 * Samples an adapter emitted while its device was not connected (a library delivering during its
 * own reconnect, or before `start()` resolved): the latest per point and source address, published
 * once the device is connected, so no value shows good while the device is not. Those it cannot
 * keep (beyond its bound, or discarded because the device disconnected before they could be
 * published) are reported to `onDropped`: a device counts them in `droppedReadings`. A sample
 * replaced by a newer one of the same point and address is superseded, not dropped.
 */
import type { Sample } from "../sdk/adapter.js";

/** Held samples per point (a wildcard point has several addresses). */
const PER_POINT = 4;

export class HeldSamples {
  private readonly held = new Map<string, Sample>();

  constructor(
    private readonly points: number,
    private readonly onDropped: (count: number) => void = () => {},
  ) {}

  /** Keeps the latest of each point and address; the oldest go first beyond the bound. */
  hold(samples: readonly Sample[]): void {
    const max = PER_POINT * Math.max(1, this.points);
    for (const s of samples) {
      const key = s.address === undefined ? s.point : `${s.point}\u0000${s.address}`;
      this.held.delete(key); // re-insert: the map stays in arrival order
      if (this.held.size >= max) {
        const oldest = this.held.keys().next();
        if (!oldest.done) {
          this.held.delete(oldest.value);
          this.onDropped(1);
        }
      }
      this.held.set(key, s);
    }
  }

  /** Everything held, in arrival order; empties the store. */
  take(): Sample[] {
    const samples = [...this.held.values()];
    this.held.clear();
    return samples;
  }

  /** Discards everything held (the device disconnected or faulted): counted as dropped. */
  clear(): void {
    if (this.held.size > 0) this.onDropped(this.held.size);
    this.held.clear();
  }
}
