import type { Reading } from "../schema/reading.js";
import type { ReadingFilter } from "./types.js";

/** Compiles a filter into a predicate; an empty filter matches everything. */
export function readingMatcher(filter: ReadingFilter | undefined): ((r: Reading) => boolean) | undefined {
  const devices = filter?.devices?.length ? new Set(filter.devices) : undefined;
  const points = filter?.points?.length ? new Set(filter.points) : undefined;
  if (!devices && !points) return undefined;
  return (r) => (!devices || devices.has(r.device)) && (!points || points.has(r.point));
}
