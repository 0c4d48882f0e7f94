/**
 * The registry shape both kinds of plugin share (adapters south, sinks north): built-ins listed in
 * one explicit file, plus third-party packages named in config, loaded with `import()` and checked
 * (shape, capabilities, SDK range) before they are used. No directory scanning.
 */

/** What differs between the kinds of plugin. */
export interface PluginKind<D> {
  /** `adapter` or `sink`: the word in messages and the named export a package may use. */
  name: "adapter" | "sink";
  /** Problems of a definition's shape and SDK range; empty when usable. */
  problems(definition: D): string[];
}

/** Looks plugin definitions up by type. */
export class PluginRegistry<D extends { readonly type: string }> {
  private readonly byType = new Map<string, D>();

  constructor(
    private readonly kind: PluginKind<D>,
    definitions: readonly D[],
  ) {
    for (const d of definitions) this.add(d, "built-in");
  }

  get(type: string): D | undefined {
    return this.byType.get(type);
  }

  list(): D[] {
    return [...this.byType.values()];
  }

  /** Adds a definition after checking its shape and SDK range; throws a descriptive Error otherwise. */
  add(definition: unknown, origin: string): D {
    const { name } = this.kind;
    const d = definition as D | undefined;
    if (!d || typeof d !== "object")
      throw new Error(`${origin}: does not export ${name === "adapter" ? "an" : "a"} ${name} definition`);
    const problems = this.kind.problems(d);
    if (problems.length > 0) throw new Error(`${origin}: ${problems.join("; ")}`);
    const existing = this.byType.get(d.type);
    if (existing && existing !== d)
      throw new Error(`${origin}: ${name} type '${d.type}' is already registered`);
    this.byType.set(d.type, d);
    return d;
  }

  /** Imports third-party packages (default export, or the export named like the kind) and adds them. */
  async load(
    packages: readonly string[],
    importer: (name: string) => Promise<unknown> = (n) => import(n),
  ): Promise<void> {
    const { name: kind } = this.kind;
    for (const name of packages) {
      let mod: Record<string, unknown>;
      try {
        mod = (await importer(name)) as Record<string, unknown>;
      } catch (error) {
        throw new Error(
          `${kind} package '${name}' could not be loaded: ${error instanceof Error ? error.message : error}`,
        );
      }
      this.add(mod.default ?? mod[kind], `${kind} package '${name}'`);
    }
  }
}
