/**
 * Sink types known to a gateway: the built-ins (builtin-sinks.ts) plus third-party packages named
 * in config (`sinks:`), loaded with `import()` and checked like adapters: shape, capabilities and
 * SDK range (the kit's `sinkDefinitionProblems`). The same shape as `AdapterRegistry`.
 */
import type { SinkDefinition } from "../sdk/sink.js";
import { sinkDefinitionProblems } from "../sdk/sink-conformance-rules.js";
import { BUILTIN_SINKS } from "./builtin-sinks.js";

/** Looks sink definitions up by type. */
export class SinkRegistry {
  private readonly byType = new Map<string, SinkDefinition>();

  constructor(definitions: readonly SinkDefinition[] = BUILTIN_SINKS) {
    for (const d of definitions) this.add(d, "built-in");
  }

  get(type: string): SinkDefinition | undefined {
    return this.byType.get(type);
  }

  list(): SinkDefinition[] {
    return [...this.byType.values()];
  }

  /** Adds a definition after checking its shape and SDK range; throws a descriptive Error otherwise. */
  add(definition: unknown, origin: string): SinkDefinition {
    const d = definition as SinkDefinition | undefined;
    if (!d || typeof d !== "object") throw new Error(`${origin}: does not export a sink definition`);
    const problems = sinkDefinitionProblems(d);
    if (problems.length > 0) throw new Error(`${origin}: ${problems.join("; ")}`);
    const existing = this.byType.get(d.type);
    if (existing && existing !== d) throw new Error(`${origin}: sink type '${d.type}' is already registered`);
    this.byType.set(d.type, d);
    return d;
  }

  /** Imports third-party sink packages (default export or `sink` export) and adds them. */
  async load(
    packages: readonly string[],
    importer: (name: string) => Promise<unknown> = (n) => import(n),
  ): Promise<void> {
    for (const name of packages) {
      let mod: { default?: unknown; sink?: unknown };
      try {
        mod = (await importer(name)) as typeof mod;
      } catch (error) {
        throw new Error(
          `sink package '${name}' could not be loaded: ${error instanceof Error ? error.message : error}`,
        );
      }
      this.add(mod.default ?? mod.sink, `sink package '${name}'`);
    }
  }
}
