/**
 * Adapter types known to a gateway: the built-ins, listed in one explicit file, plus third-party
 * packages named in config, loaded with `import()` and checked against the SDK version.
 */

import { SinkRegistry } from "../north/registry.js";
import type { AdapterDefinition } from "../sdk/adapter.js";
import { definitionProblems } from "../sdk/conformance-rules.js";
import { BUILTIN_ADAPTERS } from "./builtin-adapters.js";

/** Looks adapter definitions up by type. */
export class AdapterRegistry {
  private readonly byType = new Map<string, AdapterDefinition>();
  /**
   * The sink types of the same gateway (built-ins and the packages in `sinks:`), carried here so
   * that everything loading a config (the service, `validate`, reloads) finds both kinds of plugin.
   */
  readonly sinks: SinkRegistry;

  constructor(definitions: readonly AdapterDefinition[] = BUILTIN_ADAPTERS, sinks = new SinkRegistry()) {
    this.sinks = sinks;
    for (const d of definitions) this.add(d, "built-in");
  }

  get(type: string): AdapterDefinition | undefined {
    return this.byType.get(type);
  }

  list(): AdapterDefinition[] {
    return [...this.byType.values()];
  }

  /** Adds a definition after checking its shape and SDK range; throws a descriptive Error otherwise. */
  add(definition: unknown, origin: string): AdapterDefinition {
    const d = checkDefinition(definition, origin);
    const existing = this.byType.get(d.type);
    if (existing && existing !== d)
      throw new Error(`${origin}: adapter type '${d.type}' is already registered`);
    this.byType.set(d.type, d);
    return d;
  }

  /** Imports third-party adapter packages (default export or `adapter` export) and adds them. */
  async load(
    packages: readonly string[],
    importer: (name: string) => Promise<unknown> = (n) => import(n),
  ): Promise<void> {
    for (const name of packages) {
      let mod: { default?: unknown; adapter?: unknown };
      try {
        mod = (await importer(name)) as typeof mod;
      } catch (error) {
        throw new Error(
          `adapter package '${name}' could not be loaded: ${error instanceof Error ? error.message : error}`,
        );
      }
      this.add(mod.default ?? mod.adapter, `adapter package '${name}'`);
    }
  }
}

function checkDefinition(value: unknown, origin: string): AdapterDefinition {
  const d = value as AdapterDefinition | undefined;
  if (!d || typeof d !== "object") throw new Error(`${origin}: does not export an adapter definition`);
  const problems = Array.isArray(d.capabilities) ? definitionProblems(d) : ["capabilities is not an array"];
  if (problems.length > 0) throw new Error(`${origin}: ${problems.join("; ")}`);
  return d;
}
