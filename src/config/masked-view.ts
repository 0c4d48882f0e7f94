/**
 * The gateway as the API shows it: device and point fields whose value came from a `${env:…}` or
 * `${file:…}` placeholder are masked, as in the config export, so a secret put into a description
 * (or any shown field) is never echoed. Readings are data and pass unchanged.
 */
import type { DeviceInfo, GatewayView, PointInfo } from "../core/types.js";
import { MASK } from "./mask.js";

/** What the view needs of the running config: device ids in file order, and substituted paths. */
export interface SubstitutedPaths {
  deviceIds(): readonly string[];
  /** Paths like `devices[0].description`, `devices[0].points[2].unit`. */
  substituted(): readonly string[];
}

const TEXT_FIELDS: ReadonlySet<string> = new Set(["description", "unit", "address"]);

export function maskedView(gateway: GatewayView, paths: SubstitutedPaths): GatewayView {
  const maskedOf = (device: string): { own: Set<string>; points: Map<number, Set<string>> } | undefined => {
    const index = paths.deviceIds().indexOf(device);
    if (index < 0) return undefined;
    const prefix = `devices[${index}].`;
    const own = new Set<string>();
    const points = new Map<number, Set<string>>();
    for (const p of paths.substituted()) {
      if (!p.startsWith(prefix)) continue;
      const rest = p.slice(prefix.length);
      const m = /^points\[(\d+)\]\.([A-Za-z]+)/.exec(rest);
      if (m) {
        const i = Number(m[1]);
        const set = points.get(i) ?? new Set<string>();
        set.add(m[2]!);
        points.set(i, set);
      } else own.add(rest.split(/[.[]/)[0]!);
    }
    return own.size === 0 && points.size === 0 ? undefined : { own, points };
  };
  const device = (d: DeviceInfo): DeviceInfo => {
    const m = maskedOf(d.id);
    return m?.own.has("description") && d.description !== undefined ? { ...d, description: MASK } : d;
  };
  return {
    get id() {
      return gateway.id;
    },
    get bus() {
      return gateway.bus;
    },
    devices: () => gateway.devices().map(device),
    device: (id) => {
      const d = gateway.device(id);
      return d && device(d);
    },
    points: (id) => {
      const list = gateway.points(id);
      const m = list && maskedOf(id);
      if (!list || !m) return list;
      return list.map((p, i): PointInfo => {
        const fields = m.points.get(i);
        if (!fields) return p;
        const out = { ...p } as Record<string, unknown>;
        // The shown text fields; numbers (min, max, scale) are no secrets and keep their type.
        for (const f of fields) if (TEXT_FIELDS.has(f) && typeof out[f] === "string") out[f] = MASK;
        return out as unknown as PointInfo;
      });
    },
    ready: () => gateway.ready(),
    plan: (id) => gateway.plan(id),
    write: (d, p, v) => gateway.write(d, p, v),
    browse: (d, n) => gateway.browse(d, n),
  };
}
