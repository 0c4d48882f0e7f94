/**
 * The running configuration and every way it changes: reloads (file change, SIGHUP, API) and
 * edits through the API, which are written back to the file so it stays the source of truth.
 * Changes are serialized; an invalid result is refused with every error and nothing changes.
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import type { Logger } from "pino";
import { parseDocument } from "yaml";
import type { AdapterRegistry } from "../core/registry.js";
import type { Edit } from "./edit.js";
import { type ConfigError, formatConfigErrors } from "./errors.js";
import { type LoadResult, loadConfig, parseConfig } from "./load.js";
import { maskSecrets } from "./mask.js";
import type { GatewayConfig, LogLevel } from "./schema.js";
import { spliceEdit } from "./splice.js";

/** Values from flags or the environment that win over the config file. */
export interface Overrides {
  host?: string;
  port?: number;
  dataDir?: string;
  logLevel?: LogLevel;
}

/** Raised when the config file is invalid; carries every error. */
export class InvalidConfig extends Error {
  constructor(
    readonly file: string,
    readonly errors: ConfigError[],
  ) {
    super(formatConfigErrors(file, errors));
  }
}

/** A valid config with the paths of the values that came from placeholders. */
interface Loaded {
  config: GatewayConfig;
  substituted: string[];
}

function lookup(registry: AdapterRegistry) {
  return {
    lookup: (type: string) => registry.get(type),
    knownTypes: () => registry.list().map((d) => d.type),
    sinkLookup: (type: string) => registry.sinks.get(type),
    knownSinkTypes: () => registry.sinks.list().map((d) => d.type),
  };
}

function accepted(file: string, result: LoadResult, overrides: Overrides): Loaded {
  if (!result.ok) throw new InvalidConfig(file, result.errors);
  const c = result.config;
  if (overrides.host !== undefined) c.http.host = overrides.host;
  if (overrides.port !== undefined) c.http.port = overrides.port;
  if (overrides.dataDir !== undefined) c.dataDir = overrides.dataDir;
  if (overrides.logLevel !== undefined) c.log.level = overrides.logLevel;
  return { config: c, substituted: result.substituted };
}

/** Loads a config file (third-party adapter packages included) and validates it. */
export async function loadGatewayConfig(
  file: string,
  registry: AdapterRegistry,
  overrides: Overrides = {},
): Promise<GatewayConfig> {
  return (await load(file, registry, overrides)).config;
}

async function load(file: string, registry: AdapterRegistry, overrides: Overrides): Promise<Loaded> {
  const { lookup: find, ...known } = lookup(registry);
  const result = await loadConfig(file, find, {
    ...known,
    loadAdapters: (p) => registry.load(p),
    loadSinks: (p) => registry.sinks.load(p),
  });
  return accepted(file, result, overrides);
}

/** The text with the edit made on its Document (comments and formatting kept). */
function edited(text: string, change: Edit): string {
  const doc = parseDocument(text);
  change(doc);
  return doc.toString();
}

/** Keys that only take effect when the gateway restarts. */
const RESTART_KEYS = [
  "gateway",
  "dataDir",
  "http",
  "auth",
  "history",
  "north",
  "adapters",
  "sinks",
  "shutdownTimeoutMs",
] as const;

/** An unexpected failure of a change, as the one error it reports. */
function failure(error: unknown): ConfigError[] {
  if (error instanceof InvalidConfig) return error.errors;
  return [{ path: "(root)", message: error instanceof Error ? error.message : String(error) }];
}

/** Outcome of a reload or an edit. */
export type ConfigChange = { ok: true } | { ok: false; errors: ConfigError[] };

/** A device change built from a new config but not swapped in yet (see `Gateway.prepare`). */
export interface PreparedDevices {
  /** Devices of the new config whose adapter refused to build them. */
  problems: { device: string; message: string }[];
  /** Swaps the new devices in. */
  commit(): Promise<void>;
}

/** Builds the devices of a new config without touching the running ones. */
export type PrepareDevices = (next: GatewayConfig) => PreparedDevices;

/** Owns the running config of one service. */
export class ConfigManager {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly registry: AdapterRegistry,
    private readonly overrides: Overrides,
    private running: Loaded,
    private readonly log: () => Logger,
    private readonly prepareDevices: PrepareDevices,
  ) {}

  /** Loads the file; throws InvalidConfig with every error when it is invalid. */
  static async open(
    file: string,
    registry: AdapterRegistry,
    overrides: Overrides,
    log: () => Logger,
    prepareDevices: PrepareDevices,
  ): Promise<ConfigManager> {
    return new ConfigManager(
      file,
      registry,
      overrides,
      await load(file, registry, overrides),
      log,
      prepareDevices,
    );
  }

  get current(): GatewayConfig {
    return this.running.config;
  }

  /** Paths of the running config's values that came from placeholders, e.g. `devices[0].description`. */
  get substituted(): readonly string[] {
    return this.running.substituted;
  }

  /** The running config with secrets masked, for export. */
  masked(): unknown {
    return maskSecrets(this.running.config, this.running.substituted);
  }

  /**
   * Re-reads the file and applies it, all or nothing. Never rejects: any failure (invalid file,
   * a device its adapter refuses, an unreadable file) is an answer with its errors, logged, and
   * the running configuration stays.
   */
  reload(): Promise<ConfigChange> {
    return this.serialized(async () => {
      let change: ConfigChange;
      try {
        change = await this.transaction(await load(this.file, this.registry, this.overrides));
      } catch (error) {
        change = { ok: false, errors: failure(error) };
      }
      if (!change.ok)
        this.log().error(
          `config reload rejected, the running configuration stays:\n${formatConfigErrors(this.file, change.errors)}`,
        );
      return change;
    });
  }

  /**
   * Applies an edit to the file (on its text, splice.ts, or else on its Document) and validates the result like any config file; then
   * builds the changed devices, writes the new file next to the old one, swaps the devices in, and
   * only then replaces the file. Any failure before the swap leaves the gateway and the file as
   * they were. EditConflict from the edit propagates.
   */
  edit(change: Edit): Promise<ConfigChange> {
    return this.serialized(async () => {
      const before = await readFile(this.file, "utf8");
      const text = (change.spec && spliceEdit(before, change.spec)) ?? edited(before, change);
      const { lookup: find, ...known } = lookup(this.registry);
      const result = parseConfig(text, { file: this.file, lookup: find, ...known });
      if (!result.ok) return { ok: false, errors: result.errors };
      const tmp = `${this.file}.tagbridge-tmp`;
      return this.transaction(accepted(this.file, result, this.overrides), {
        write: () => writeFile(tmp, text),
        replace: () => rename(tmp, this.file),
        abandon: () => rm(tmp, { force: true }),
      });
    });
  }

  /** Build, (write the new file aside), swap, (put the file in place): see `edit`. */
  private async transaction(
    next: Loaded,
    file?: { write(): Promise<void>; replace(): Promise<void>; abandon(): Promise<void> },
  ): Promise<ConfigChange> {
    const prepared = this.prepareDevices(next.config);
    if (prepared.problems.length > 0) {
      const index = new Map(next.config.devices.map((d, i) => [d.id, i]));
      return {
        ok: false,
        errors: prepared.problems.map((p) => ({
          path: `devices[${index.get(p.device)}]`,
          message: p.message,
        })),
      };
    }
    if (file) {
      try {
        await file.write();
      } catch (error) {
        await file.abandon().catch(() => {});
        return { ok: false, errors: failure(error) };
      }
    }
    await this.swap(next, prepared);
    await file?.replace();
    return { ok: true };
  }

  private async swap(next: Loaded, prepared: PreparedDevices): Promise<void> {
    const log = this.log();
    const was = this.running.config;
    for (const key of RESTART_KEYS) {
      if (JSON.stringify(next.config[key]) !== JSON.stringify(was[key]))
        log.warn(`config '${key}' changed: takes effect after a restart`);
    }
    log.level = next.config.log.level;
    await prepared.commit();
    const kept = {
      gateway: was.gateway,
      dataDir: was.dataDir,
      http: was.http,
      auth: was.auth,
      history: was.history,
      north: was.north,
      shutdownTimeoutMs: was.shutdownTimeoutMs,
    };
    this.running = { config: { ...next.config, ...kept }, substituted: next.substituted };
  }

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task);
    this.chain = run.catch(() => {});
    return run;
  }
}
