/**
 * The Modbus adapter: connection lifecycle over the client seam, block reads with retries, unit
 * demotion and per-request error statuses, and confirmed writes. Polled: the core schedules reads;
 * this file owns no timers (request timeouts live in modbus-serial; probes of a demoted unit are
 * due at clock times checked on each read).
 */

import { EncodeError, encodeBitMask, encodeBits, encodeRegisters } from "../../protocols/modbus/codec.js";
import {
  exceptionName,
  isBitTable,
  isWritableTable,
  MAX_WRITE_BITS,
  MAX_WRITE_REGISTERS,
} from "../../protocols/modbus/types.js";
import {
  type Adapter,
  type AdapterContext,
  type Sample,
  WriteRefused,
  type WriteResult,
} from "../../src/sdk/index.js";
import { type ModbusClient, ModbusError, SerialLibClient } from "./client.js";
import type { ModbusPointFields, ModbusSettings } from "./config.js";
import { Lane } from "./lane.js";
import {
  type BatchRequest,
  batchOf,
  type CompiledPoint,
  compilePoints,
  describePlan,
  limitsOf,
  type ModbusPoint,
} from "./points.js";

/** The context the core hands a Modbus instance; its `reconnect` also paces the probes of a demoted unit. */
export type ModbusContext = AdapterContext<ModbusSettings, ModbusPointFields>;

/** A Modbus instance: it can read, write and show its plan. */
export type ModbusInstance = Required<
  Pick<Adapter<ModbusPointFields>, "start" | "stop" | "read" | "write" | "plan">
>;

/** Builds the client for a context; tests inject a fake. */
export type ClientFactory = (settings: ModbusSettings) => ModbusClient;

type Phase = "idle" | "running" | "stopped";

interface UnitState {
  /** Consecutive requests that timed out after all retries. */
  timeouts: number;
  /** Clock time until which the unit is left alone. */
  demotedUntil: number;
  /** Wait before the next probe of the demoted unit: the reconnect backoff, doubling per failed probe. */
  probeMs: number;
}

/** A failed request: the status its points read, and whether its attempts all went unanswered or garbled (so it took its time). */
interface Failed {
  status: string;
  retried: boolean;
}

/** Encodes a write into the request that sends it; a value the point cannot hold is refused (`WriteRefused`). */
function encodeWrite(
  c: ModbusClient,
  pointId: string,
  spec: CompiledPoint["spec"],
  value: unknown,
): () => Promise<void> {
  try {
    if (isBitTable(spec.table)) {
      const bits = encodeBits(spec.count, value);
      if (bits.length > MAX_WRITE_BITS) throw new EncodeError(`at most ${MAX_WRITE_BITS} coils per write`);
      return () => c.writeCoils(spec.unitId, spec.address, bits);
    }
    if (spec.type === "bool") {
      // A bit inside a holding register: FC22 changes that bit alone, atomically on the device.
      const { andMask, orMask } = encodeBitMask(spec, value);
      return () => c.maskWriteRegister(spec.unitId, spec.address, andMask, orMask);
    }
    const words = encodeRegisters(spec, value);
    if (words.length > MAX_WRITE_REGISTERS)
      throw new EncodeError(`at most ${MAX_WRITE_REGISTERS} registers per write`);
    return () => c.writeRegisters(spec.unitId, spec.address, words);
  } catch (err) {
    if (err instanceof EncodeError)
      throw new WriteRefused("InvalidValue", `point ${pointId}: ${err.message}`);
    throw err;
  }
}

/** Creates a Modbus instance for one device. No I/O; invalid points throw here, listing every problem. */
export function createModbus(
  ctx: ModbusContext,
  makeClient: ClientFactory = (s) => new SerialLibClient(s),
): ModbusInstance {
  const s = ctx.settings;
  const transport = s.transport ?? "tcp";
  if (transport === "rtu" ? !s.serialPort : !s.host) {
    throw new Error(
      `modbus ${ctx.device}: transport ${transport} needs connection.${transport === "rtu" ? "serialPort" : "host"}`,
    );
  }
  const compiled = compilePoints(ctx.points, s);
  const limits = limitsOf(s);
  const retries = s.retries ?? 1;
  const demoteAfter = s.demoteAfterTimeouts ?? 3;
  const reconnect = ctx.reconnect;
  // demoteForMs, when set, caps the probe backoff below the device's reconnect.maxMs.
  const probeMax = Math.max(reconnect.minMs, Math.min(reconnect.maxMs, s.demoteForMs ?? Infinity));
  const lane = new Lane(transport === "tcp" ? (s.maxInFlight ?? 1) : 1);
  const m = ctx.metrics;
  const metric = {
    requests: m.counter("modbus_requests", "Read and write requests sent, retries included."),
    timeouts: m.counter("modbus_timeouts", "Requests that got no answer in time."),
    exceptions: m.counter("modbus_exceptions", "Requests answered with a Modbus exception."),
    malformed: m.counter(
      "modbus_malformed_responses",
      "Responses that were truncated, mis-framed, failed their CRC or answered another function.",
    ),
    demotions: m.counter("modbus_unit_demotions", "Times a unit was demoted after consecutive timeouts."),
    writes: m.counter("modbus_writes", "Writes the device confirmed."),
  };
  const units = new Map<number, UnitState>();
  const batches = new WeakMap<readonly ModbusPoint[], BatchRequest[]>();
  let client: ModbusClient | undefined;
  let phase: Phase = "idle";

  const live = (what: string): ModbusClient => {
    if (phase !== "running" || !client) {
      throw new Error(
        `modbus ${ctx.device}: cannot ${what}, ${phase === "stopped" ? "stopped" : "not connected"}`,
      );
    }
    return client;
  };

  const unit = (id: number): UnitState => {
    let u = units.get(id);
    if (!u) {
      u = { timeouts: 0, demotedUntil: 0, probeMs: reconnect.minMs };
      units.set(id, u);
    }
    return u;
  };

  /** Sends one read, retrying timeouts and malformed answers; returns the data or why its points are bad. */
  async function fetch(c: ModbusClient, b: BatchRequest): Promise<Uint8Array | boolean[] | Failed> {
    const { unitId, table, address, count } = b.request;
    const u = unit(unitId);
    const now = ctx.clock.now();
    if (u.demotedUntil > now) return { status: "Timeout", retried: false };
    const probing = u.timeouts >= demoteAfter;
    let status = "Timeout";
    for (let attempt = 0; attempt <= (probing ? 0 : retries); attempt++) {
      metric.requests.inc();
      try {
        const data = isBitTable(table)
          ? await c.readBits(unitId, table as "coil" | "discrete", address, count)
          : await c.readRegisters(unitId, table as "holding" | "input", address, count);
        answered(unitId, u);
        return data;
      } catch (err) {
        if (!(err instanceof ModbusError) || err.kind === "connection") throw err;
        if (err.kind === "exception") {
          metric.exceptions.inc();
          answered(unitId, u);
          return { status: exceptionName(err.code ?? 0), retried: false };
        }
        c.resync();
        if (!c.isOpen) throw new Error(`connection lost: ${err.message}`);
        if (err.kind === "malformed") {
          metric.malformed.inc();
          ctx.log.debug({ unitId, table, address, count, err: err.message }, "malformed response");
          status = "MalformedResponse";
        } else {
          metric.timeouts.inc();
          status = "Timeout";
        }
      }
    }
    if (status === "Timeout" && ++u.timeouts >= demoteAfter) demote(unitId, u, probing);
    return { status, retried: true };
  }

  /** The unit answered: it is no longer demoted, and its next demotion starts at the shortest probe wait. */
  function answered(unitId: number, u: UnitState): void {
    if (u.timeouts >= demoteAfter) ctx.log.info({ unitId }, "demoted unit answered again");
    u.timeouts = 0;
    u.demotedUntil = 0;
    u.probeMs = reconnect.minMs;
  }

  /** Leaves the unit alone until its next probe; each failed probe doubles the wait, up to the backoff's maximum. */
  function demote(unitId: number, u: UnitState, probing: boolean): void {
    const wait = u.probeMs;
    u.demotedUntil = ctx.clock.now() + wait;
    u.probeMs = Math.min(wait * 2, probeMax);
    metric.demotions.inc();
    const log = { unitId, timeouts: u.timeouts, nextProbeMs: wait };
    if (probing) ctx.log.debug(log, "demoted unit did not answer its probe");
    else ctx.log.warn(log, "unit demoted after consecutive timeouts");
  }

  /**
   * A write to a unit that stopped answering is refused at once (503), not held behind its timeouts
   * and sent whenever the line is free: the unit is demoted, or awaits the probe that may bring it back.
   */
  function refuseIfSilent(pointId: string, unitId: number, u: UnitState): void {
    if (u.timeouts < demoteAfter) return;
    const wait = Math.max(0, u.demotedUntil - ctx.clock.now());
    throw new WriteRefused(
      "NotConnected",
      `point ${pointId}: unit ${unitId} is not answering (${u.timeouts} consecutive timeouts); ${
        wait > 0 ? `next probe in ${wait} ms` : "its next read probes it"
      }`,
    );
  }

  /**
   * Runs one request of a poll. Its points' samples go to their slots in `out`; when the request's
   * retries are spent (Timeout, MalformedResponse) and other requests of the poll remain, they are
   * handed to the core at once instead (`emit`), so a silent unit on a shared line reads bad now,
   * not when the poll's last request has ended.
   */
  async function execute(
    c: ModbusClient,
    b: BatchRequest,
    out: Sample[],
    early: Sample[][] | undefined,
  ): Promise<void> {
    const data = await fetch(c, b);
    const { points, slots } = b;
    if (!(data instanceof Uint8Array) && !Array.isArray(data)) {
      const bad: Sample[] = points.map((cp) => ({
        point: cp.point.id,
        value: null,
        quality: "bad",
        status: data.status,
        address: cp.address,
      }));
      if (early && data.retried && phase === "running") {
        early.push(bad);
        ctx.emit(bad);
      } else for (let i = 0; i < bad.length; i++) out[slots[i]!] = bad[i]!;
      return;
    }
    const base = b.request.address;
    if (data instanceof Uint8Array) {
      for (let i = 0; i < points.length; i++) {
        const cp = points[i]!;
        const value = cp.decode!(data, (cp.spec.address - base) * 2);
        out[slots[i]!] = { point: cp.point.id, value, quality: "good", address: cp.address };
      }
      return;
    }
    for (let i = 0; i < points.length; i++) {
      const cp = points[i]!;
      const at = cp.spec.address - base;
      const value = cp.spec.count === undefined ? data[at]! : data.slice(at, at + cp.spec.count);
      out[slots[i]!] = { point: cp.point.id, value, quality: "good", address: cp.address };
    }
  }

  return {
    async start() {
      if (phase === "running") return;
      phase = "idle";
      // A new connection gives every unit a fresh chance: a unit demoted before is asked at once.
      units.clear();
      const c = makeClient(s);
      client = c;
      try {
        await c.connect();
      } catch (err) {
        client = undefined;
        await c.close().catch(() => undefined);
        throw err;
      }
      if (client !== c) {
        await c.close();
        throw new Error(`modbus ${ctx.device}: stopped while starting`);
      }
      phase = "running";
      ctx.log.debug({ plan: describePlan(ctx.points, compiled, limits) }, "modbus connected; request plan");
    },

    async stop() {
      phase = "stopped";
      const c = client;
      client = undefined;
      await c?.close();
    },

    async read(points) {
      const c = live("read");
      let batch = batches.get(points);
      if (!batch) {
        batch = batchOf(points, compiled, limits);
        batches.set(points, batch);
      }
      const out = new Array<Sample>(points.length);
      // A read of one request gains nothing from emitting early: its result is complete as soon.
      const early: Sample[][] | undefined = batch.length > 1 ? [] : undefined;
      if (batch.length > 1 && lane.limit > 1) c.coalesce?.();
      await Promise.all(batch.map((b) => lane.run(() => execute(c, b, out, early))));
      if (phase !== "running") throw new Error(`modbus ${ctx.device}: stopped during read`);
      // Points already emitted have empty slots; the rest are returned.
      return !early?.length ? out : out.filter((x) => x !== undefined);
    },

    async write(point, value): Promise<WriteResult> {
      const c = live("write");
      if (point.access !== "readwrite")
        throw new Error(`point ${point.id} is read-only (access: ${point.access ?? "read"})`);
      const cp = compiled.get(point.id);
      if (!cp) throw new Error(`modbus ${ctx.device}: unknown point ${point.id}`);
      const { spec } = cp;
      if (!isWritableTable(spec.table))
        throw new Error(`point ${point.id} is in the ${spec.table} table, which cannot be written`);
      // Encoded before anything is sent: what this point cannot hold is the client's mistake (422).
      const send = encodeWrite(c, point.id, spec, value);
      const u = unit(spec.unitId);
      refuseIfSilent(point.id, spec.unitId, u);
      metric.requests.inc();
      try {
        // Checked again once the line is ours: the unit may have been demoted while the write waited.
        await lane.run(() => {
          refuseIfSilent(point.id, spec.unitId, u);
          return send();
        });
      } catch (err) {
        if (!(err instanceof ModbusError)) throw err;
        if (err.kind === "exception") {
          metric.exceptions.inc();
          answered(spec.unitId, u);
          throw new Error(`point ${point.id}: the device refused the write: ${exceptionName(err.code ?? 0)}`);
        }
        if (err.kind === "timeout") {
          metric.timeouts.inc();
          if (++u.timeouts >= demoteAfter) demote(spec.unitId, u, false);
        }
        if (err.kind === "malformed") metric.malformed.inc();
        c.resync();
        throw new Error(
          `point ${point.id}: write not confirmed: ${err.kind === "timeout" ? "Timeout" : err.message}`,
        );
      }
      answered(spec.unitId, u);
      metric.writes.inc();
      ctx.log.debug({ point: point.id, address: cp.address }, "write confirmed");
      return {};
    },

    plan() {
      return describePlan(ctx.points, compiled, limits);
    },
  };
}
