/**
 * The gateway runtime: owns the bus, the sequence, the metrics and one runner per device, and
 * applies a new device list by restarting only the devices that changed.
 */
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "pino";
import type { BrowseNode, Clock } from "../sdk/adapter.js";
import { Bus } from "./bus.js";
import { DeviceRunner, type DeviceSpec, RequestRefused } from "./device.js";
import { GatewayMetrics } from "./metrics.js";
import type { AdapterRegistry } from "./registry.js";
import { Sequence } from "./sequence.js";
import type { DeviceInfo, GatewayView, PointInfo } from "./types.js";
import type { WriteOutcome } from "./write.js";

/** What a gateway is built from. */
export interface GatewayOptions {
  /** Gateway id stamped on every reading. */
  id: string;
  /** Absolute directory for the gateway's files. */
  dataDir: string;
  devices: readonly DeviceSpec[];
  registry: AdapterRegistry;
  log: Logger;
  clock?: Clock;
}

/** What `apply` changed. */
export interface ApplyResult {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

/** A device change built but not yet swapped in (see `Gateway.prepare`). */
export interface PreparedChange {
  result: ApplyResult;
  /** Added or changed devices their adapter refused to build. */
  problems: { device: string; message: string }[];
  /** Stops what goes, starts what comes. */
  commit(): Promise<ApplyResult>;
}

const systemClock: Clock = { now: () => Date.now() };

/** A running gateway. */
export class Gateway implements GatewayView {
  readonly id: string;
  readonly bus: Bus;
  readonly metrics = new GatewayMetrics();
  private readonly sequence: Sequence;
  private readonly runners = new Map<string, DeviceRunner>();
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly options: GatewayOptions) {
    this.id = options.id;
    this.clock = options.clock ?? systemClock;
    this.log = options.log;
    this.sequence = new Sequence(this.clock.now());
    this.bus = new Bus((consumer, error) => this.log.warn({ err: error, consumer }, "bus consumer failed"));
    this.metrics.observe(() => this.devices(), this.bus);
    for (const spec of options.devices) this.runners.set(spec.id, this.create(spec));
  }

  /** Starts every enabled device; returns at once, devices connect in the background. */
  start(): void {
    for (const r of this.runners.values()) if (r.spec.enabled !== false) r.start();
    this.log.info({ devices: this.runners.size }, `gateway '${this.id}' started`);
  }

  /** Stops every device. Nothing is published after it resolves. */
  async stop(): Promise<void> {
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
  }

  /**
   * Moves to a new device list: removed and changed devices stop, added and changed ones start,
   * the others keep running untouched. Devices the adapter refuses to build become `faulted`.
   */
  async apply(devices: readonly DeviceSpec[]): Promise<ApplyResult> {
    return this.prepare(devices).commit();
  }

  /**
   * The first half of a transactional change: builds the runners of added and changed devices
   * (and again those that could not be built before) without starting anything. `problems` lists
   * the added or changed devices their adapter refused to build; `commit` swaps the runners in,
   * `discard` (or simply not committing) leaves the gateway as it was.
   */
  prepare(devices: readonly DeviceSpec[]): PreparedChange {
    const next = new Map(devices.map((d) => [d.id, d]));
    const result: ApplyResult = { added: [], removed: [], changed: [], unchanged: [] };
    const retried: string[] = [];
    for (const [id, runner] of this.runners) {
      const spec = next.get(id);
      if (!spec) result.removed.push(id);
      else if (!isDeepStrictEqual(spec, runner.spec)) result.changed.push(id);
      else if (runner.faultedAtBuild !== undefined) retried.push(id);
      else result.unchanged.push(id);
    }
    for (const id of next.keys()) if (!this.runners.has(id)) result.added.push(id);
    const fresh = [...result.changed, ...result.added, ...retried].map((id) => this.create(next.get(id)!));
    const problems = fresh
      .filter(
        (r) => r.faultedAtBuild !== undefined && r.spec.enabled !== false && !retried.includes(r.spec.id),
      )
      .map((r) => ({ device: r.spec.id, message: r.faultedAtBuild! }));
    result.changed.push(...retried);
    return {
      result,
      problems,
      commit: async () => {
        await Promise.all(
          [...result.removed, ...result.changed].map(async (id) => {
            const runner = this.runners.get(id);
            await runner?.stop();
            this.runners.delete(id);
            this.bus.forget(id);
            if (runner) this.metrics.forget(runner.spec.type, id);
          }),
        );
        for (const r of fresh) {
          this.runners.set(r.spec.id, r);
          if (r.spec.enabled !== false) r.start();
        }
        this.log.info(result, "configuration applied");
        return result;
      },
    };
  }

  devices(): DeviceInfo[] {
    return [...this.runners.values()].map((r) => r.info());
  }

  device(id: string): DeviceInfo | undefined {
    return this.runners.get(id)?.info();
  }

  points(device: string): PointInfo[] | undefined {
    return this.runners.get(device)?.points();
  }

  ready(): boolean {
    for (const r of this.runners.values()) if (r.spec.enabled !== false && !r.attemptedConnect) return false;
    return true;
  }

  /** Writes a point of a device; rejects with `RequestRefused` for refusals the API maps to codes. */
  async write(device: string, point: string, value: unknown): Promise<WriteOutcome> {
    return this.runner(device).write(point, value);
  }

  plan(device: string): unknown {
    return this.runner(device).plan();
  }

  browse(device: string, node?: string): Promise<BrowseNode[]> {
    return this.runner(device).browse(node);
  }

  private runner(device: string): DeviceRunner {
    const r = this.runners.get(device);
    if (!r) throw new RequestRefused("UnknownDevice", `no device '${device}'`);
    return r;
  }

  private create(spec: DeviceSpec): DeviceRunner {
    const definition = this.options.registry.get(spec.type);
    if (!definition) throw new Error(`device '${spec.id}': unknown adapter type '${spec.type}'`);
    return new DeviceRunner(spec, definition, {
      gateway: this.id,
      bus: this.bus,
      sequence: this.sequence,
      log: this.log,
      clock: this.clock,
      metrics: this.metrics,
      dataDir: this.options.dataDir,
    });
  }
}
