/**
 * The device guard: everything a device does (its adapter's create, start, read, write, browse,
 * stop, and every callback its protocol library makes from sockets and timers created there) runs
 * in the device's async scope. A failure that escapes the adapter (an exception thrown from a
 * library callback, a rejected promise nobody awaited) is traced back to its device through that
 * scope and becomes that device's fault, never the process's exit.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger } from "pino";

/** What the guard calls when a failure escaped a device's code. */
export interface DeviceScope {
  readonly device: string;
  fault(error: unknown): void;
}

const scopes = new AsyncLocalStorage<DeviceScope>();

/** Runs `fn` (and every async work it starts) in the scope of a device. */
export function inDevice<T>(scope: DeviceScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/** Runs `fn` outside any device scope: work it schedules (bus consumers, sinks) is not the device's. */
export function outsideDevices<T>(fn: () => T): T {
  return scopes.exit(fn);
}

/** The device whose code is running, if any. */
export function currentDevice(): DeviceScope | undefined {
  return scopes.getStore();
}

/** Counts of failures that escaped, for `/metrics`. */
export interface EscapedCounts {
  /** Per device id. */
  readonly byDevice: Map<string, number>;
  /** Outside every device (the gateway's own code). */
  outside: number;
}

let installed: { counts: EscapedCounts; log: Logger } | undefined;

/**
 * Installs the process safety net once: an uncaught exception or unhandled rejection inside a
 * device faults that device; one outside every device is logged and counted, and the process
 * keeps serving (every other device and the API are unaffected). Returns the shared counts.
 */
export function installSafetyNet(log: Logger): EscapedCounts {
  if (installed) {
    installed.log = log;
    return installed.counts;
  }
  const counts: EscapedCounts = { byDevice: new Map(), outside: 0 };
  const state = { counts, log };
  installed = state;
  const onEscape = (kind: string) => (error: unknown) => {
    const scope = currentDevice();
    if (scope) {
      counts.byDevice.set(scope.device, (counts.byDevice.get(scope.device) ?? 0) + 1);
      state.log.error({ err: error, device: scope.device }, `${kind} in device '${scope.device}'`);
      scope.fault(error);
      return;
    }
    counts.outside++;
    state.log.error({ err: error }, `${kind} outside any device; the gateway keeps running`);
  };
  process.on("uncaughtException", onEscape("uncaught exception"));
  process.on("unhandledRejection", onEscape("unhandled rejection"));
  return counts;
}

/** The counts of the installed safety net, if any. */
export function escapedCounts(): EscapedCounts | undefined {
  return installed?.counts;
}
