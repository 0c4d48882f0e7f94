/** What the starvation benchmarks share: the simulated plant, acquisition by slot, medians and formatting. */
import type { Reading } from "../src/schema/reading.js";

/** The `devices:` YAML of `devices` simulators × `points` points polled every `pollMs`, each published every poll. */
export function simulatorDevicesYaml(devices: number, points: number, pollMs: number): string[] {
  const lines = ["devices:"];
  for (let d = 0; d < devices; d++) {
    lines.push(
      `  - id: d${d}`,
      "    type: simulator",
      `    pollIntervalMs: ${pollMs}`,
      `    connection: { seed: ${d + 1} }`,
      "    points:",
    );
    for (let p = 0; p < points; p++)
      lines.push(
        `      - { id: p${p}, type: float64, publish: always, generator: { kind: randomWalk, step: 1, min: 0, max: 100, start: 50 } }`,
      );
  }
  return lines;
}

/** Readings acquired per 100 ms slot (by receivedAt). */
export class Acquired {
  private readonly slots = new Map<number, number>();
  add(batch: readonly Reading[]): void {
    for (const r of batch) {
      const slot = Math.floor(Date.parse(r.receivedAt) / 100);
      this.slots.set(slot, (this.slots.get(slot) ?? 0) + 1);
    }
  }
  /** Readings in the whole 100 ms slots of [start, end), and the ms those slots cover. */
  slotsOf(start: number, end: number): { n: number; ms: number } {
    let n = 0;
    const first = Math.ceil(start / 100);
    const last = Math.floor(end / 100);
    for (let s = first; s < last; s++) n += this.slots.get(s) ?? 0;
    return { n, ms: Math.max(0, last - first) * 100 };
  }
  between(start: number, end: number): number {
    return this.slotsOf(start, end).n;
  }
  /** Readings in [start, end) over what `rate` per second plans for its whole slots; NaN without one. */
  share(start: number, end: number, rate: number): number {
    const { n, ms } = this.slotsOf(start, end);
    return ms > 0 ? n / ((rate * ms) / 1000) : Number.NaN;
  }
  /** Fewest readings in any whole second of [start, end). */
  worstSecond(start: number, end: number): number {
    let worst = Number.POSITIVE_INFINITY;
    for (let t = Math.ceil(start / 100) * 100; t + 1000 <= end; t += 1000)
      worst = Math.min(worst, this.between(t, t + 1000));
    return Number.isFinite(worst) ? worst : Number.NaN; // no whole second in the phase
  }
}

/** Median of the numbers that are not NaN; NaN when none is. */
export const median = (xs: number[]): number => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
export const f = (x: number, d = 1): string => (Number.isNaN(x) ? "-" : x.toFixed(d));
export const pct = (x: number): string => (Number.isNaN(x) ? "-" : `${(x * 100).toFixed(1)} %`);
