/**
 * Per-point topics (MQTT) and subjects (NATS), filled from the sink's template once per point
 * instead of once per message: a replay sends thousands per second, and a template's regex replace
 * per message cost as much as writing the message's JSON.
 */

/** Returns `make(device, point)`, remembered for up to `max` points (then forgotten and refilled). */
export function pointNames(
  make: (device: string, point: string) => string,
  max = 100_000,
): (device: string, point: string) => string {
  const byDevice = new Map<string, Map<string, string>>();
  let size = 0;
  return (device, point) => {
    let byPoint = byDevice.get(device);
    let name = byPoint?.get(point);
    if (name !== undefined) return name;
    name = make(device, point);
    if (size >= max) {
      byDevice.clear();
      size = 0;
      byPoint = undefined;
    }
    if (!byPoint) {
      byPoint = new Map();
      byDevice.set(device, byPoint);
    }
    byPoint.set(point, name);
    size++;
    return name;
  };
}
