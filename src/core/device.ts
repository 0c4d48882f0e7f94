/**
 * Runs one device: the adapter's lifecycle, connect retries with backoff, polling, turning
 * samples into Readings, and the device state the API shows.
 */
import { join } from "node:path";
import type { Logger } from "pino";
import { type DeviceCounters, zeroCounters } from "../schema/device-counters.js";
import type { Reading } from "../schema/reading.js";
import type {
  Adapter,
  AdapterDefinition,
  BrowseNode,
  DeviceState,
  ReportedState,
  Sample,
} from "../sdk/adapter.js";
import { WriteRefused } from "../sdk/adapter.js";
import { corePointProperties, DEFAULT_RECONNECT, type PointConfig } from "../sdk/point.js";
import { ReadingBuilder } from "./builder.js";
import { type DeviceDeps, type DeviceSpec, RequestRefused, sharedDirOf } from "./device-spec.js";
import { HELD_CAUSE } from "./drops.js";
import { type DeviceScope, inDevice, outsideDevices } from "./guard.js";
import { HeldSamples } from "./held.js";
import { OutageLog } from "./outage-log.js";
import { Poller, type PollGroup, pollGroups, spreadPhase } from "./poller.js";
import type { DeviceInfo, PointInfo } from "./types.js";
import { checkWrite, type WriteOutcome } from "./write.js";

export { type DeviceDeps, type DeviceSpec, RequestRefused, sharedDirOf } from "./device-spec.js";

type Point = PointConfig<Record<string, unknown>>;

const CORE_POINT_KEYS = Object.keys(corePointProperties) as (keyof typeof corePointProperties)[];

/** A polled point is stale after this many of its intervals without a sample (default `staleAfterMs`). */
const STALE_INTERVALS = 3;

/** Status of every point of a faulted device. */
const FAULT_STATUS = "DeviceFault";

/** Statuses that end when the device is connected again. */
const OUTAGE_STATUSES: ReadonlySet<string> = new Set(["Disconnected", FAULT_STATUS]);

/** Longest a stop waits for an adapter's start() that ignores the stop. */
const STOP_WAIT_MS = 5000;

/** One running device. */
export class DeviceRunner {
  /** Undefined when the adapter's `create()` refused the device: it is then `faulted`. */
  private readonly adapter: Adapter<Record<string, unknown>> | undefined;
  /** Failures escaping this device's code come back here (see guard.ts). */
  private readonly scope: DeviceScope;
  private readonly builder: ReadingBuilder;
  private readonly log: Logger;
  private readonly polledGroups: PollGroup<Point>[];
  private readonly pushedIds: ReadonlySet<string>;
  /** Open from start() to stop(), reading while connected: every tick is counted (see poller.ts). */
  private readonly poller: Poller<Point> | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private reported: ReportedState | "connecting" | "stopped" | "faulted";
  private reason: string | undefined;
  private since: number;
  private stopped = false;
  private started = false;
  private attempted = false;
  /** Connected at least once, so the next connect is a reconnect. */
  private everConnected = false;
  /** When each poll group's last read finished (ms), for staleness. */
  private readonly lastPollDone = new Map<PollGroup<Point>, number>();
  /** Samples emitted while not connected, published once connected. */
  private readonly held: HeldSamples;
  private readonly outages: OutageLog;
  private wake: (() => void) | undefined;
  private lifecycle: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private restarting = false;
  /** A fault arrived; the connect loop gives way to the fault handling. */
  private faultPending = false;
  /** Why the adapter could not be built, if it could not. */
  private readonly buildError: string | undefined;
  /** The device's reconnect backoff, defaults applied. */
  private readonly reconnect: { minMs: number; maxMs: number };
  /** Next retry delay; doubles on each failure, back to the minimum after a good read. */
  private backoffMs: number;
  /** `droppedReadings` is the bus's drop ledger's, filled in by `info()`. */
  readonly counters: DeviceCounters = zeroCounters();

  constructor(
    readonly spec: DeviceSpec,
    private readonly definition: AdapterDefinition,
    private readonly deps: DeviceDeps,
  ) {
    this.log = deps.log.child({ adapter: definition.type, device: spec.id });
    this.held = new HeldSamples(spec.points.length, (n) => deps.bus.drops.add(spec.id, HELD_CAUSE, n));
    this.outages = new OutageLog(this.log);
    this.since = deps.clock.now();
    this.reported = spec.enabled === false ? "stopped" : "connecting";
    this.reconnect = { ...DEFAULT_RECONNECT, ...spec.reconnect };
    this.backoffMs = this.reconnect.minMs;
    this.builder = new ReadingBuilder(deps.gateway, spec.id, definition.type, spec.points, deps.sequence);
    const canRead = definition.capabilities.includes("read");
    const polled = spec.points.filter(
      (p) => canRead && (definition.polled ? definition.polled(p as never) : true),
    );
    this.polledGroups = pollGroups(polled, spec.pollIntervalMs ?? 1000);
    this.pushedIds = new Set(spec.points.filter((p) => !polled.includes(p)).map((p) => p.id));
    if (this.polledGroups.length > 0)
      this.poller = new Poller(
        this.polledGroups,
        (g) => this.poll(g),
        () => this.counters.overruns++,
        (g, pending) => this.checkStale(g, pending),
        {
          onLost: (_g, why, n) => {
            this.counters[why === "missed" ? "missedPolls" : "skippedPolls"] += n;
          },
          phase: spec.pollPhase === "spread" ? spreadPhase(spec.id) : 0,
        },
      );
    this.scope = { device: spec.id, fault: (error) => this.fault(error) };
    const ctx = {
      gateway: deps.gateway,
      device: spec.id,
      log: this.log,
      settings: spec.connection,
      points: spec.points,
      emit: (samples: readonly Sample[]) => {
        try {
          this.accept(samples);
        } catch (error) {
          this.fault(error); // emit never throws into the adapter
        }
      },
      setState: (state: ReportedState, reason?: string) => this.onReported(state, reason),
      markStale: (ids?: readonly string[]) => this.markStale(ids ?? this.pushedIds),
      reconnect: this.reconnect,
      clock: deps.clock,
      metrics: deps.metrics.forDevice(definition.type, spec.id),
      dataDir: join(deps.dataDir, "devices", spec.id),
      sharedDir: sharedDirOf(deps.dataDir, definition.type),
    };
    try {
      this.adapter = inDevice(this.scope, () => definition.create(ctx)) as Adapter<Record<string, unknown>>;
    } catch (error) {
      this.buildError = `cannot build the device: ${message(error)}`;
      if (this.reported !== "stopped") this.reported = "faulted";
    }
  }

  /** Why the adapter refused to build this device, when it did (the device is then `faulted`). */
  get faultedAtBuild(): string | undefined {
    return this.buildError;
  }

  /** Starts connecting in the background; resolves at once. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.poller?.open(); // ticks count from now: skipped until connected
    if (!this.adapter) {
      this.setState("faulted", this.buildError);
      this.publishWith((out) => this.builder.markAll("bad", FAULT_STATUS, this.deps.clock.now(), out));
      this.attempted = true;
      return;
    }
    this.lifecycle = this.connectLoop();
  }

  /**
   * Stops polling and the adapter. Idempotent; nothing is published after it resolves. A connect
   * in progress is cut short by the adapter's `stop()`; a start that ignores it is waited for at
   * most `STOP_WAIT_MS`.
   */
  stop(): Promise<void> {
    if (!this.stopping) {
      this.stopped = true;
      this.wake?.();
      this.stopping = (async () => {
        await this.halt();
        await Promise.race([this.lifecycle, new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref())]);
        await this.stopAdapter(); // a start that completed during the wait
        await this.poller?.stop();
        this.setState("stopped", undefined);
      })();
    }
    return this.stopping;
  }

  /** True once the first connection attempt finished, whatever its outcome. */
  get attemptedConnect(): boolean {
    return this.attempted;
  }

  get state(): DeviceState {
    if (this.reported === "connected" && this.builder.notGood(0).count > 0) return "degraded";
    return this.reported;
  }

  /** Why the device is in its state; always set unless it is `connected`. */
  private stateReason(state: DeviceState): string | undefined {
    if (state === "connected") return undefined;
    if (state === "degraded" && this.reported === "connected") {
      const { count, total, statuses } = this.builder.notGood();
      return `${count} of ${total} points not good (${statuses.join(", ")})`;
    }
    if (this.reason !== undefined) return this.reason;
    if (state === "stopped") return this.spec.enabled === false ? "disabled (enabled: false)" : "stopped";
    if (state === "connecting") return this.attempted ? "reconnecting" : "first connection attempt";
    return state;
  }

  info(): DeviceInfo {
    const state = this.state;
    const info: DeviceInfo = {
      id: this.spec.id,
      type: this.spec.type,
      enabled: this.spec.enabled !== false,
      state,
      stateSince: new Date(this.since).toISOString(),
      pointCount: this.spec.points.length,
      counters: { ...this.counters, droppedReadings: this.deps.bus.drops.total(this.spec.id) },
    };
    if (this.spec.description !== undefined) info.description = this.spec.description;
    const reason = this.stateReason(state);
    if (reason !== undefined) info.stateReason = reason;
    return info;
  }

  points(): PointInfo[] {
    return this.spec.points.map((p) => {
      // The core fields as configured (adapter fields stay out: the API shows one shape for all).
      const info: PointInfo = { id: p.id, type: p.type };
      const fields = info as unknown as Record<string, unknown>;
      for (const key of CORE_POINT_KEYS) if (p[key] !== undefined) fields[key] = p[key];
      if (typeof p.address === "string") info.address = p.address;
      const latest = this.deps.bus.latestOf(this.spec.id, p.id);
      if (latest) info.latest = latest;
      return info;
    });
  }

  /** Writes a point; resolves once the device confirmed, with the value written in engineering units. */
  async write(pointId: string, value: unknown): Promise<WriteOutcome> {
    const point = this.spec.points.find((p) => p.id === pointId);
    if (!point)
      throw new RequestRefused("UnknownPoint", `device '${this.spec.id}' has no point '${pointId}'`);
    if (point.access !== "readwrite")
      throw new RequestRefused("NotWritable", `point '${pointId}' is not writable (access: read)`);
    const adapter = this.adapter;
    if (!adapter?.write)
      throw new RequestRefused("Unsupported", `adapter '${this.definition.type}' cannot write`);
    const check = checkWrite(point, value);
    if (!check.ok) throw new RequestRefused("InvalidValue", check.message);
    this.requireConnected();
    try {
      const result = await inDevice(this.scope, () => adapter.write!(point, check.raw));
      return { ...result, value: check.written };
    } catch (err) {
      // The adapter refused before sending (a value its protocol cannot encode, a silent unit).
      if (err instanceof WriteRefused) throw new RequestRefused(err.reason, err.message);
      throw err;
    }
  }

  /** The adapter's read plan, or undefined when it has none. */
  plan(): unknown {
    return this.adapter?.plan?.();
  }

  /** Children of a node of the device's address space. */
  async browse(node: string | undefined): Promise<BrowseNode[]> {
    const adapter = this.adapter;
    if (!adapter?.browse)
      throw new RequestRefused("Unsupported", `adapter '${this.definition.type}' cannot browse`);
    this.requireConnected();
    return inDevice(this.scope, () => adapter.browse!(node));
  }

  private requireConnected(): void {
    if (this.state !== "connected" && this.state !== "degraded") {
      throw new RequestRefused("NotConnected", `device '${this.spec.id}' is ${this.state}`);
    }
  }

  private async connectLoop(): Promise<void> {
    while (!this.stopped && !this.faultPending) {
      this.setState("connecting", this.reason);
      try {
        const adapter = this.adapter!;
        await inDevice(this.scope, () => adapter.start());
      } catch (error) {
        this.attempted = true;
        if (this.stopped) break;
        const delay = this.nextBackoff();
        this.disconnected(`connect failed: ${message(error)}`, delay);
        await this.stopAdapter();
        await this.sleep(delay);
        continue;
      }
      this.attempted = true;
      if (this.stopped || this.faultPending) break;
      this.setState("connected", undefined);
      this.startPolling();
      return;
    }
  }

  private startPolling(): void {
    this.poller?.start();
    const beats = this.spec.points
      .filter((p) => this.pushedIds.has(p.id) && p.heartbeatMs !== undefined)
      .map((p) => p.heartbeatMs!);
    if (beats.length > 0) {
      const every = Math.max(100, Math.min(...beats) / 2);
      this.heartbeatTimer = setInterval(
        () => this.publishWith((out) => this.builder.heartbeats(this.pushedIds, this.deps.clock.now(), out)),
        every,
      );
    }
  }

  /** Reads a group; false when it did not (not connected, or stopping): the tick is skipped. */
  private async poll(group: PollGroup<Point>): Promise<boolean> {
    const started = performance.now();
    // While the adapter says it is disconnected, its library is reconnecting: a read would only
    // fail and make the core restart the adapter on top of the library's own reconnect.
    if (this.restarting || this.reported === "disconnected") return false;
    let samples: Sample[];
    try {
      const adapter = this.adapter!;
      samples = await inDevice(this.scope, () => adapter.read!(group.points));
    } catch (error) {
      if (this.stopped) return false;
      this.counters.readErrors++;
      this.reconnectAfter(`read failed: ${message(error)}`);
      return true;
    }
    this.counters.reads++;
    this.lastPollDone.set(group, this.deps.clock.now());
    this.backoffMs = this.reconnect.minMs;
    const ms = performance.now() - started;
    this.counters.lastReadMs = Math.round(ms * 100) / 100;
    this.deps.metrics.observeRead(this.definition.type, this.spec.id, ms / 1000);
    this.accept(samples);
    return true;
  }

  /** Connection-wide failure while connected: restart the adapter with backoff. */
  private reconnectAfter(reason: string): void {
    if (this.restarting) return;
    this.restarting = true;
    this.next(async () => {
      const delay = this.nextBackoff();
      await this.halt();
      if (this.stopped) return;
      this.disconnected(reason, delay);
      await this.sleep(delay);
      this.restarting = false;
      await this.connectLoop();
    });
  }

  private nextBackoff(): number {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(delay * 2, this.maxBackoff());
    return delay;
  }

  private async halt(): Promise<void> {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    await this.poller?.pause();
    await this.stopAdapter();
  }

  private async stopAdapter(): Promise<void> {
    const adapter = this.adapter;
    if (!adapter) return;
    try {
      await inDevice(this.scope, () => adapter.stop());
    } catch (error) {
      this.log.warn({ err: error }, "adapter stop failed");
    }
  }

  /**
   * A failure escaped the adapter (a library callback threw, a promise was left rejected, emit was
   * handed garbage): the device becomes `faulted` with the reason, its points bad/DeviceFault, and
   * it is started afresh after its longest reconnect delay. Other devices never notice.
   */
  private fault(error: unknown): void {
    this.counters.faults++;
    if (this.stopped || this.restarting) return;
    this.restarting = true;
    const reason = `fault: ${message(error)}`;
    this.log.error({ err: error }, `device faulted; restarting it in ${this.maxBackoff()} ms`);
    this.faultPending = true;
    this.wake?.(); // a connect loop sleeping between attempts ends now
    this.next(async () => {
      this.faultPending = false;
      await this.halt();
      if (this.stopped) return;
      this.held.clear();
      this.setState("faulted", reason);
      this.publishWith((out) => this.builder.markAll("bad", FAULT_STATUS, this.deps.clock.now(), out));
      await this.sleep(this.maxBackoff());
      this.restarting = false;
      await this.connectLoop();
    });
  }

  /** Runs `task` after the lifecycle work before it; a failure is logged, never left floating. */
  private next(task: () => Promise<void>): void {
    this.lifecycle = this.lifecycle.then(task).catch((error) => {
      this.log.error({ err: error }, "device lifecycle failed");
    });
  }

  private maxBackoff(): number {
    return this.reconnect.maxMs;
  }

  private accept(samples: readonly Sample[]): void {
    if (this.stopped || samples.length === 0) return;
    if (this.reported !== "connected" && this.reported !== "degraded") {
      this.held.hold(samples);
      return;
    }
    this.counters.samples += samples.length;
    this.publishWith((out) => {
      const { badStatuses } = this.builder.build(samples, this.deps.clock.now(), out);
      this.counters.badSamples += badStatuses.length;
      for (const status of badStatuses)
        this.deps.metrics.countBad(this.definition.type, this.spec.id, status);
    });
  }

  /** Publishes what was held while connecting, once connected. */
  private releaseHeld(): void {
    const samples = this.held.take();
    if (samples.length > 0) this.accept(samples);
  }

  /** Polled points of `group` whose values stopped arriving become uncertain/Stale. */
  /**
   * Polled points of `group` whose values stopped arriving become uncertain/Stale: a point is stale
   * when its last sample is older than its `staleAfterMs` and either a read of the group is still
   * pending (the device is not answering) or the last finished read did not deliver it. A tick
   * that comes late because the gateway's own event loop was busy marks nothing.
   */
  private checkStale(group: PollGroup<Point>, pending: boolean): void {
    if (this.reported !== "connected") return;
    const now = this.deps.clock.now();
    const done = this.lastPollDone.get(group) ?? 0;
    const ms = group.intervalMs;
    this.markStale(
      group.points.map((p) => p.id),
      (p, lastSampleMs) =>
        now - lastSampleMs >= (p.staleAfterMs ?? STALE_INTERVALS * ms) && (pending || lastSampleMs < done),
    );
  }

  private markStale(ids: Iterable<string>, isStale?: (p: Point, lastSampleMs: number) => boolean): void {
    if (this.stopped || (this.reported !== "connected" && this.reported !== "degraded")) return;
    this.publishWith((out) => {
      const before = out.length;
      this.builder.markStale(ids, this.deps.clock.now(), out, isStale);
      this.counters.staleMarks += out.length - before;
    });
  }

  private onReported(state: ReportedState, reason: string | undefined): void {
    if (this.stopped) return;
    if (state === "disconnected") this.disconnected(reason ?? "reported by adapter", undefined);
    else this.setState(state, reason);
  }

  private disconnected(reason: string, retryMs: number | undefined): void {
    const now = this.deps.clock.now();
    this.outages.failed(reason, retryMs, now);
    this.held.clear();
    this.setState("disconnected", reason);
    this.publishWith((out) => this.builder.markAll("bad", "Disconnected", now, out));
  }

  private publishWith(fill: (out: Reading[]) => void): void {
    const out: Reading[] = [];
    fill(out);
    if (out.length === 0) return;
    this.counters.readings += out.length;
    // Outside the device's scope: what consumers schedule from here is theirs, not the device's.
    outsideDevices(() => this.deps.bus.publish(out));
  }

  private setState(state: DeviceRunner["reported"], reason: string | undefined): void {
    const was = this.reported;
    const changed = was !== state;
    this.reported = state;
    this.reason = reason;
    if (!changed) return;
    this.since = this.deps.clock.now();
    if (state === "connected" && was !== "degraded") {
      // Counted here, whoever reconnected: the core's connect loop or the library (setState).
      if (this.everConnected) this.counters.reconnects++;
      this.everConnected = true;
      this.outages.ended();
    }
    if (state === "connected" || state === "stopped") this.log.info(`device ${state}`);
    else if (state !== "disconnected") this.log.debug(`device ${state}`);
    if (state === "connected" || state === "degraded") {
      // Pushed points cannot be read on demand: until their next value they are no longer
      // Disconnected but not known either. Polled ones are read at once.
      this.publishWith((out) =>
        this.builder.remark(this.pushedIds, OUTAGE_STATUSES, "uncertain", "WaitingForData", this.since, out),
      );
      this.releaseHeld();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
