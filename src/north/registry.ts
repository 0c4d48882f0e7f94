/**
 * Sink types known to a gateway: the built-ins (builtin-sinks.ts) plus third-party packages named
 * in config (`sinks:`), checked by the kit's `sinkDefinitionProblems`. Same registry as adapters.
 */
import { PluginRegistry } from "../core/plugin-registry.js";
import type { SinkDefinition } from "../sdk/sink.js";
import { sinkDefinitionProblems } from "../sdk/sink-conformance-rules.js";
import { BUILTIN_SINKS } from "./builtin-sinks.js";

/** Looks sink definitions up by type. */
export class SinkRegistry extends PluginRegistry<SinkDefinition> {
  constructor(definitions: readonly SinkDefinition[] = BUILTIN_SINKS) {
    super({ name: "sink", problems: sinkDefinitionProblems }, definitions);
  }
}
