/**
 * Checks a schema cannot express: unique ids, and point settings that only mean something in
 * combination with others. Written defensively: it also runs on devices that failed the schema,
 * so that one run reports every mistake.
 */
import { SCALAR_TYPES } from "../schema/reading.js";
import type { Path, RawError } from "./errors.js";

/** Scalar types that scale, offset and deadband apply to. */
export const NUMERIC_TYPES: ReadonlySet<string> = new Set(
  SCALAR_TYPES.filter((t) => /^(u?int|float)\d+$/.test(t)),
);

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** Reports every id seen before in `items`, at the path of the later one. */
function duplicates(
  items: readonly unknown[],
  what: string,
  at: (i: number) => Path,
  name: string,
): RawError[] {
  const first = new Map<string, number>();
  const errors: RawError[] = [];
  items.forEach((item, i) => {
    const id = isObject(item) ? item.id : undefined;
    if (typeof id !== "string") return;
    const earlier = first.get(id);
    if (earlier === undefined) first.set(id, i);
    else
      errors.push({
        path: [...at(i), "id"],
        message: `duplicate ${what} id '${id}' (first at ${name}[${earlier}])`,
      });
  });
  return errors;
}

function pointErrors(point: Record<string, unknown>, path: Path): RawError[] {
  const errors: RawError[] = [];
  const publish = point.publish ?? "onChange";
  if (publish === "always") {
    for (const key of ["heartbeatMs", "deadband"]) {
      if (point[key] !== undefined) {
        errors.push({ path: [...path, key], message: `${key} only applies with publish: onChange` });
      }
    }
  }
  if (typeof point.min === "number" && typeof point.max === "number" && point.min > point.max) {
    errors.push({ path: [...path, "max"], message: `must be >= min (${point.min})` });
  }
  const type = point.type;
  if (typeof type === "string" && !NUMERIC_TYPES.has(type)) {
    for (const key of ["scale", "offset", "deadband"]) {
      if (point[key] !== undefined) {
        errors.push({
          path: [...path, key],
          message: `${key} only applies to numeric point types (int*, uint*, float*), not '${type}'`,
        });
      }
    }
  }
  return errors;
}

function deviceErrors(device: Record<string, unknown>, path: Path): RawError[] {
  const errors: RawError[] = [];
  const reconnect = device.reconnect;
  if (isObject(reconnect) && typeof reconnect.minMs === "number" && typeof reconnect.maxMs === "number") {
    if (reconnect.maxMs < reconnect.minMs) {
      errors.push({ path: [...path, "reconnect", "maxMs"], message: "must be >= reconnect.minMs" });
    }
  }
  const points = Array.isArray(device.points) ? device.points : [];
  errors.push(...duplicates(points, "point", (i) => [...path, "points", i], "points"));
  points.forEach((point, i) => {
    if (isObject(point)) errors.push(...pointErrors(point, [...path, "points", i]));
  });
  return errors;
}

/** Every semantic mistake in `devices` (the top-level `devices` array). */
export function semanticErrors(devices: readonly unknown[]): RawError[] {
  const errors = duplicates(devices, "device", (i) => ["devices", i], "devices");
  devices.forEach((device, i) => {
    if (isObject(device)) errors.push(...deviceErrors(device, ["devices", i]));
  });
  return errors;
}
