/**
 * The one list of adapters built into tagbridge. Add a built-in adapter here; nothing scans folders.
 */
import { modbusAdapter } from "../../adapters/modbus/index.js";
import { mqttAdapter } from "../../adapters/mqtt/index.js";
import { opcuaAdapter } from "../../adapters/opcua/index.js";
import { simulatorAdapter } from "../../adapters/simulator/index.js";
import type { AdapterDefinition } from "../sdk/adapter.js";

export const BUILTIN_ADAPTERS: readonly AdapterDefinition[] = [
  simulatorAdapter,
  modbusAdapter,
  opcuaAdapter,
  mqttAdapter,
] as unknown as readonly AdapterDefinition[];
