/**
 * Adapter types known to a gateway: the built-ins, listed in one explicit file, plus third-party
 * packages named in config, loaded with `import()` and checked against the SDK version.
 */

import { SinkRegistry } from "../north/registry.js";
import type { AdapterDefinition } from "../sdk/adapter.js";
import { definitionProblems } from "../sdk/conformance-rules.js";
import { BUILTIN_ADAPTERS } from "./builtin-adapters.js";
import { PluginRegistry } from "./plugin-registry.js";

/** Looks adapter definitions up by type. */
export class AdapterRegistry extends PluginRegistry<AdapterDefinition> {
  /**
   * The sink types of the same gateway (built-ins and the packages in `sinks:`), carried here so
   * that everything loading a config (the service, `validate`, reloads) finds both kinds of plugin.
   */
  readonly sinks: SinkRegistry;

  constructor(definitions: readonly AdapterDefinition[] = BUILTIN_ADAPTERS, sinks = new SinkRegistry()) {
    super({ name: "adapter", problems: adapterProblems }, definitions);
    this.sinks = sinks;
  }
}

function adapterProblems(d: AdapterDefinition): string[] {
  return Array.isArray(d.capabilities) ? definitionProblems(d) : ["capabilities is not an array"];
}
