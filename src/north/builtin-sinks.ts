/**
 * The one list of sinks built into tagbridge. Add a built-in sink here; nothing scans folders.
 * Third-party sinks are packages named in config (`sinks:`), loaded by {@link SinkRegistry}.
 */
import type { SinkDefinition } from "../sdk/sink.js";
import { mqttSink } from "./mqtt.js";
import { natsSink } from "./nats.js";
import { sparkplugSink } from "./sparkplug.js";

export const BUILTIN_SINKS: readonly SinkDefinition[] = [
  mqttSink,
  sparkplugSink,
  natsSink,
] as unknown as readonly SinkDefinition[];
