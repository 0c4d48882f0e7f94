/**
 * Expectations of a fault case (expected.yaml) and the check of one snapshot of the four views
 * against one of them. The check lists every mismatch; an empty list means the step holds.
 */
import type { Reading } from "../../../src/schema/reading.js";
import { type Snapshot, VIEW_NAMES } from "./views.js";

/** What one point's latest reading must be; `status: null` means no status at all, a list any of them. */
export interface PointExpectation {
  quality?: Reading["quality"];
  status?: string | null | string[];
  value?: Reading["value"];
}

/** The state every view must show after a step. */
export interface Expectation {
  /** The device's state, or any of several (e.g. disconnected or connecting while retrying). */
  state: string | string[];
  /** Whether a stateReason must be present (it always must when the state is not connected). */
  stateReason?: boolean;
  /** counters.reconnects must be at least the number of outages ended so far. */
  countReconnects?: boolean;
  /** `*` applies to every point; a point's own entry adds to it. */
  points: Record<string, PointExpectation>;
}

/** expected.yaml */
export interface Expected {
  device: string;
  /** Every point that must show in each view. */
  points: string[];
  /** Named expectations the schedule's steps refer to. */
  expect: Record<string, Expectation>;
}

function pointExpectation(e: Expectation, point: string): PointExpectation {
  return { ...e.points["*"], ...e.points[point] };
}

function statusMatches(got: string | undefined, want: string | null | string[]): boolean {
  if (Array.isArray(want)) return got !== undefined && want.includes(got);
  return (got ?? null) === want;
}

function show(r: Reading): string {
  const status = r.status === undefined ? "" : `/${r.status}`;
  return `${r.quality}${status} value=${JSON.stringify(r.value)} seq=${r.seq}`;
}

/** Every way `snap` differs from `e`; `outagesEnded` for countReconnects. */
export function mismatches(snap: Snapshot, e: Expectation, points: string[], outagesEnded: number): string[] {
  const out: string[] = [];
  const states = Array.isArray(e.state) ? e.state : [e.state];
  const d = snap.device;
  if (!states.includes(d.state))
    out.push(`device state ${d.state} (${d.stateReason ?? "no reason"}), want ${states.join("|")}`);
  if ((e.stateReason || d.state !== "connected") && !d.stateReason)
    out.push(`device state ${d.state} without a stateReason`);
  if (e.countReconnects && d.counters.reconnects < outagesEnded)
    out.push(`counters.reconnects ${d.counters.reconnects} after ${outagesEnded} outage(s)`);
  for (const view of VIEW_NAMES) {
    const latest = snap.views[view];
    for (const point of points) {
      const r = latest.get(point);
      if (!r) {
        out.push(`${view} ${point}: no reading`);
        continue;
      }
      const want = pointExpectation(e, point);
      const bad =
        (want.quality !== undefined && r.quality !== want.quality) ||
        (want.status !== undefined && !statusMatches(r.status, want.status)) ||
        (want.value !== undefined && JSON.stringify(r.value) !== JSON.stringify(want.value));
      if (bad) out.push(`${view} ${point}: ${show(r)}, want ${JSON.stringify(want)}`);
    }
  }
  return out;
}
