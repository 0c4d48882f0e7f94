/**
 * Samples an adapter emitted while its device was not connected (a library delivering during its
 * own reconnect, or before `start()` resolved): the latest per point and source address, published
 * once the device is connected, so no value shows good while the device is not.
 */
import type { Sample } from "../sdk/adapter.js";

/** Held samples per point (a wildcard point has several addresses). */
const PER_POINT = 4;

export class HeldSamples {
  private readonly held = new Map<string, Sample>();

  constructor(private readonly points: number) {}

  /** Keeps the latest of each point and address; the oldest go first beyond the bound. */
  hold(samples: readonly Sample[]): void {
    const max = PER_POINT * Math.max(1, this.points);
    for (const s of samples) {
      const key = s.address === undefined ? s.point : `${s.point}\u0000${s.address}`;
      this.held.delete(key); // re-insert: the map stays in arrival order
      if (this.held.size >= max) {
        const oldest = this.held.keys().next();
        if (!oldest.done) this.held.delete(oldest.value);
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

  clear(): void {
    this.held.clear();
  }
}
