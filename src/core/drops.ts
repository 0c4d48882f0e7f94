/**
 * Readings lost after a device produced them, per device and per cause: the name of the bus
 * consumer whose full queue dropped them (`history`, `north:<id>`, `ws:<client>`…), or `held`
 * for samples a device held while not connected and could not keep. A device's
 * `droppedReadings` counter is its total here; /metrics shows the causes.
 */

/** The cause of samples held while not connected and then evicted or discarded (see held.ts). */
export const HELD_CAUSE = "held";

/** Causes kept by name per device; further ones (stream clients come and go) are summed as `other`. */
const MAX_CAUSES = 16;
const OTHER_CAUSE = "other";

/** One device's drops by one cause. */
export interface DropCount {
  device: string;
  cause: string;
  count: number;
}

export class DropLedger {
  private readonly byDevice = new Map<string, { total: number; causes: Map<string, number> }>();

  /** Counts `n` readings of `device` lost to `cause`. */
  add(device: string, cause: string, n = 1): void {
    if (n <= 0) return;
    let entry = this.byDevice.get(device);
    if (!entry) {
      entry = { total: 0, causes: new Map() };
      this.byDevice.set(device, entry);
    }
    entry.total += n;
    const key = entry.causes.has(cause) || entry.causes.size < MAX_CAUSES ? cause : OTHER_CAUSE;
    entry.causes.set(key, (entry.causes.get(key) ?? 0) + n);
  }

  /** Everything `device` lost since it was last forgotten. */
  total(device: string): number {
    return this.byDevice.get(device)?.total ?? 0;
  }

  /** Every device's drops by cause. */
  list(): DropCount[] {
    const out: DropCount[] = [];
    for (const [device, { causes }] of this.byDevice)
      for (const [cause, count] of causes) out.push({ device, cause, count });
    return out;
  }

  /** Starts a device afresh (removed or rebuilt: its counters begin at zero). */
  forget(device: string): void {
    this.byDevice.delete(device);
  }
}
