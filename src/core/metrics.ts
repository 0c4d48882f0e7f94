/**
 * Prometheus metrics of a gateway: adapters' own counters and gauges (labelled by adapter and
 * device), plus gauges read from the runtime's counters at scrape time.
 */
import {
  collectDefaultMetrics,
  Counter as PromCounter,
  Gauge as PromGauge,
  Histogram as PromHistogram,
  Registry,
} from "prom-client";
import { type DeviceCounters, DeviceCountersSchema } from "../schema/device-counters.js";
import type { Counter, Gauge, Metrics } from "../sdk/adapter.js";
import { escapedCounts } from "./guard.js";
import type { DeviceInfo, ReadingBus } from "./types.js";

const NAME = /^[a-z][a-z0-9_]*$/;

/** The device counters exported as gauges: all but `lastReadMs` (read durations are a histogram). */
export const EXPORTED_COUNTERS = (
  Object.keys(DeviceCountersSchema.properties) as (keyof DeviceCounters)[]
).filter((k) => k !== "lastReadMs");

/** The /metrics name of a device counter: `missedPolls` → `tagbridge_device_missed_polls`. */
export function deviceCounterMetric(key: keyof DeviceCounters): string {
  return `tagbridge_device_${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
}

/** Owns the registry; one per gateway, so several gateways in one process do not collide. */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly counters = new Map<string, PromCounter<"adapter" | "device">>();
  private readonly gauges = new Map<string, PromGauge<"adapter" | "device">>();
  private readonly readSeconds = new PromHistogram({
    name: "tagbridge_device_read_seconds",
    help: "Duration of one poll (read() of a group of points), round trip to the device included",
    labelNames: ["adapter", "device"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly badSamples = new PromCounter({
    name: "tagbridge_device_bad_samples_by_status_total",
    help: "Samples with non-good quality, by status (Timeout, IllegalDataAddress, TypeMismatch, Disconnected, …)",
    labelNames: ["adapter", "device", "status"],
    registers: [this.registry],
  });

  constructor() {
    // Process memory, CPU, event-loop lag, GC: the standard Node.js set.
    collectDefaultMetrics({ register: this.registry });
  }

  /** Records how long one poll took. */
  observeRead(adapter: string, device: string, seconds: number): void {
    this.readSeconds.observe({ adapter, device }, seconds);
  }

  /** Statuses counted per device, so a removed device's series can be deleted. */
  private readonly badStatuses = new Map<string, Set<string>>();

  /** Counts a non-good sample by its status. */
  countBad(adapter: string, device: string, status: string): void {
    this.badSamples.inc({ adapter, device, status });
    const key = `${adapter}\u0000${device}`;
    const seen = this.badStatuses.get(key);
    if (seen) seen.add(status);
    else this.badStatuses.set(key, new Set([status]));
  }

  /**
   * Deletes every series of a device (its adapter's counters and gauges, read durations, bad
   * samples by status): a device removed from config, or rebuilt, leaves none behind.
   */
  forget(adapter: string, device: string): void {
    const labels = { adapter, device };
    for (const m of [...this.counters.values(), ...this.gauges.values()]) m.remove(labels);
    this.readSeconds.remove(labels);
    const key = `${adapter}\u0000${device}`;
    for (const status of this.badStatuses.get(key) ?? []) this.badSamples.remove({ ...labels, status });
    this.badStatuses.delete(key);
  }

  /** Metrics handed to one adapter instance through its context. */
  forDevice(adapter: string, device: string): Metrics {
    const labels = { adapter, device };
    return {
      counter: (name, help): Counter => {
        const c = this.metric(this.counters, `tagbridge_adapter_${checked(name)}_total`, help, PromCounter);
        return { inc: (by = 1) => c.inc(labels, by) };
      },
      gauge: (name, help): Gauge => {
        const g = this.metric(this.gauges, `tagbridge_adapter_${checked(name)}`, help, PromGauge);
        return { set: (v) => g.set(labels, v) };
      },
    };
  }

  /** Exposes device counters and bus consumer stats, read when scraped. */
  observe(devices: () => DeviceInfo[], bus: ReadingBus): void {
    const perDevice = (name: string, help: string, pick: (d: DeviceInfo) => number) =>
      new PromGauge({
        name,
        help,
        labelNames: ["device", "adapter"],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const d of devices()) this.set({ device: d.id, adapter: d.type }, pick(d));
        },
      });
    perDevice("tagbridge_device_connected", "1 when the device is connected or degraded", (d) =>
      d.state === "connected" || d.state === "degraded" ? 1 : 0,
    );
    // Every device counter, named and described by its one declaration (DeviceCountersSchema).
    for (const key of EXPORTED_COUNTERS) {
      const help = (DeviceCountersSchema.properties[key] as { description?: string }).description ?? key;
      perDevice(deviceCounterMetric(key), `${help} Since the device started.`, (d) => d.counters[key] ?? 0);
    }
    new PromGauge({
      name: "tagbridge_device_dropped_readings_by_consumer",
      help: "A device's droppedReadings by cause: the bus consumer whose full queue dropped them (history, north:<id>, ws:<client>…; beyond 16 names per device, other), a north sink's buffer bounds (north:<id>:buffer), or held",
      labelNames: ["device", "adapter", "consumer"],
      registers: [this.registry],
      collect() {
        this.reset();
        const adapters = new Map(devices().map((d) => [d.id, d.type]));
        for (const { device, cause, count } of bus.drops.list()) {
          const adapter = adapters.get(device);
          if (adapter !== undefined) this.set({ device, adapter, consumer: cause }, count);
        }
      },
    });
    new PromGauge({
      name: "tagbridge_escaped_errors",
      help: "Uncaught exceptions and unhandled rejections outside every device (logged; the gateway kept running)",
      registers: [this.registry],
      collect() {
        this.set(escapedCounts()?.outside ?? 0);
      },
    });
    new PromGauge({
      name: "tagbridge_bus_queued",
      help: "Readings waiting in a bus consumer's queue",
      labelNames: ["consumer"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of bus.consumers()) this.set({ consumer: c.name }, c.queued);
      },
    });
    new PromGauge({
      name: "tagbridge_bus_dropped",
      help: "Readings a bus consumer dropped because its queue was full",
      labelNames: ["consumer"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of bus.consumers()) this.set({ consumer: c.name }, c.dropped);
      },
    });
  }

  private metric<M extends PromCounter<"adapter" | "device"> | PromGauge<"adapter" | "device">>(
    cache: Map<string, M>,
    name: string,
    help: string,
    Kind: new (config: {
      name: string;
      help: string;
      labelNames: ("adapter" | "device")[];
      registers: Registry[];
    }) => M,
  ): M {
    let m = cache.get(name);
    if (!m) {
      m = new Kind({ name, help, labelNames: ["adapter", "device"], registers: [this.registry] });
      cache.set(name, m);
    }
    return m;
  }
}

/** `name` when it is a snake_case metric name; throws otherwise (adapter and sink metrics). */
export function checked(name: string): string {
  if (!NAME.test(name)) throw new Error(`metric name '${name}' must be snake_case`);
  return name;
}
