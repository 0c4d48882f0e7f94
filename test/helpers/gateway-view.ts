/**
 * A small GatewayView over a real bus, holding two devices, for the HTTP tests. Test support only.
 */
import { createBus } from "../../src/core/bus.js";
import { RequestRefused } from "../../src/core/device.js";
import type { DeviceInfo, GatewayView, PointInfo, ReadingBus } from "../../src/core/types.js";
import type { AuthOptions } from "../../src/http/auth/guard.js";
import { TokenStore } from "../../src/http/auth/tokens.js";
import type { Reading } from "../../src/schema/reading.js";

/** A GatewayView whose readiness a test can flip. */
export interface TestGateway extends GatewayView {
  isReady: boolean;
}

const counters = () => ({
  reads: 3,
  readErrors: 0,
  overruns: 0,
  missedPolls: 0,
  skippedPolls: 0,
  droppedReadings: 0,
  staleMarks: 0,
  faults: 0,
  samples: 6,
  badSamples: 1,
  readings: 6,
  reconnects: 0,
  lastReadMs: 4.5,
});

const POINTS: Record<string, PointInfo[]> = {
  "press-1": [
    { id: "temp", type: "float64", unit: "degC", address: "40001" },
    { id: "pressure", type: "float32", unit: "bar", address: "40003" },
  ],
  "oven-2": [{ id: "temp", type: "float64", unit: "degC", address: "ns=2;s=Oven.Temp" }],
};

function deviceInfo(id: string): DeviceInfo {
  const type = id === "press-1" ? "modbus" : "opcua";
  return {
    id,
    type,
    enabled: true,
    state: id === "press-1" ? "connected" : "disconnected",
    ...(id === "oven-2" ? { stateReason: "ECONNREFUSED" } : {}),
    stateSince: "2024-05-01T08:00:00.000Z",
    pointCount: POINTS[id]?.length ?? 0,
    counters: counters(),
  };
}

/** Two devices, `press-1` (temp, pressure) and `oven-2` (temp), over `bus`. */
export function testGateway(bus: ReadingBus = createBus()): TestGateway {
  return {
    id: "gw-test",
    bus,
    isReady: true,
    ready() {
      return this.isReady;
    },
    devices: () => Object.keys(POINTS).map(deviceInfo),
    device: (id) => (POINTS[id] ? deviceInfo(id) : undefined),
    plan(device) {
      if (!POINTS[device]) throw new RequestRefused("UnknownDevice", `no device '${device}'`);
      return device === "press-1"
        ? { requests: [{ unitId: 1, table: "holding", address: 0, count: 4 }] }
        : undefined;
    },
    async write(device) {
      throw new RequestRefused(
        POINTS[device] ? "Unsupported" : "UnknownDevice",
        "the test gateway does not write",
      );
    },
    async browse(device, node) {
      if (!POINTS[device]) throw new RequestRefused("UnknownDevice", `no device '${device}'`);
      if (device === "oven-2") throw new RequestRefused("NotConnected", "device 'oven-2' is disconnected");
      if (node === "bad") throw new Error("BadNodeIdUnknown");
      return [
        {
          id: `${node ?? "root"}/temp`,
          name: "temp",
          kind: "Variable",
          type: "float64",
          access: "read",
          hasChildren: false,
        },
      ];
    },
    points(device) {
      const points = POINTS[device];
      if (!points) return undefined;
      const latest = new Map(bus.latest({ devices: [device] }).map((r) => [r.point, r]));
      return points.map((p) => {
        const r = latest.get(p.id);
        return r ? { ...p, latest: r } : { ...p };
      });
    },
  };
}

let seq = 0;

/** A valid Reading of `device`/`point` with the next sequence number. */
export function reading(device: string, point: string, value: Reading["value"] = 21.5): Reading {
  seq++;
  const ts = new Date(Date.UTC(2024, 4, 1, 8, 0, 0, seq)).toISOString();
  return {
    gateway: "gw-test",
    device,
    point,
    value,
    type: "float64",
    quality: "good",
    ts,
    receivedAt: ts,
    protocol: device === "press-1" ? "modbus" : "opcua",
    seq,
  };
}

/** Auth that lets loopback callers (and `app.inject`) read without a token, as the demo does. */
export function loopbackViewer(): AuthOptions {
  return { tokens: TokenStore.memory(), anonymous: "loopback-viewer" };
}
