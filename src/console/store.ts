/** The device list, polled: states and counters change without readings (e.g. a device that is down). */
import { ApiError, api } from "./api.js";
import type { DeviceInfo } from "./types.js";

const POLL_MS = 2_000;

export interface DeviceStore {
  devices: DeviceInfo[];
  subscribe(listener: (devices: DeviceInfo[]) => void): void;
  stop(): void;
}

export function startDeviceStore(onError: (error: ApiError) => void): DeviceStore {
  const listeners: ((devices: DeviceInfo[]) => void)[] = [];
  let timer: number | undefined;
  let stopped = false;
  const store: DeviceStore = {
    devices: [],
    subscribe(listener) {
      listeners.push(listener);
      if (store.devices.length) listener(store.devices);
    },
    stop() {
      stopped = true;
      window.clearTimeout(timer);
    },
  };
  const poll = async () => {
    try {
      store.devices = await api.get<DeviceInfo[]>("devices");
      for (const l of listeners) l(store.devices);
    } catch (error) {
      if (error instanceof ApiError) onError(error);
    }
    if (!stopped) timer = window.setTimeout(poll, POLL_MS);
  };
  void poll();
  return store;
}
