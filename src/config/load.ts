/**
 * Loads a gateway configuration file: YAML, placeholders, schema, per-adapter device schemas and
 * semantic checks. The result is either a whole valid config, defaults applied, or every error
 * found; never a partial config.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { BUILTIN_SINKS } from "../north/builtin-sinks.js";
import { type SinkLookup, sinkIdErrors } from "../north/sink-schema.js";
import { type ConfigError, formatPath, type RawError } from "./errors.js";
import type { GatewayConfig } from "./schema.js";
import { semanticErrors } from "./semantic.js";
import { readSource, type Source } from "./source.js";
import { substitute } from "./substitute.js";
import { type AdapterLookup, checkDevice, checkSink, checkTop } from "./validate.js";

export type { AdapterLookup } from "./validate.js";

/** Either a whole valid configuration or every error found in it. */
export type LoadResult =
  | {
      ok: true;
      config: GatewayConfig;
      /** Paths (`devices[0].connection.password`) of values that came from placeholders: redact them when logging. */
      substituted: string[];
    }
  | { ok: false; errors: ConfigError[] };

/** What parsing needs besides the text. */
export interface ParseOptions {
  /** Path of the file the text came from: `${file:…}` and `dataDir` are relative to its directory. */
  file: string;
  /** Finds the adapter definition of a device `type`. */
  lookup: AdapterLookup;
  /** Known adapter types, listed in the message about an unknown one (a function is called when needed). */
  knownTypes?: readonly string[] | (() => readonly string[]);
  /** Finds the sink definition of a `north:` entry's `type`; the built-in sinks by default. */
  sinkLookup?: SinkLookup;
  /** Known sink types, listed in the message about an unknown one; the built-ins by default. */
  knownSinkTypes?: () => readonly string[];
  /** Environment for `${env:…}`; `process.env` by default. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Options of `loadConfig` besides the file and the lookup. */
export interface LoadOptions extends Omit<ParseOptions, "file" | "lookup"> {
  /**
   * Loads the third-party adapter packages the file names in `adapters` (e.g. `registry.load`),
   * before devices are checked, so that `lookup` finds their types. A throw is reported at `adapters`.
   */
  loadAdapters?: (packages: readonly string[]) => Promise<void>;
  /**
   * Loads the third-party sink packages the file names in `sinks` (e.g. `sinkRegistry.load`),
   * before `north:` is checked, so that `sinkLookup` finds their types. A throw is reported at `sinks`.
   */
  loadSinks?: (packages: readonly string[]) => Promise<void>;
}

const builtinSink: SinkLookup = (type) => BUILTIN_SINKS.find((d) => d.type === type);

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** Parses and validates configuration text. Synchronous: `${file:…}` placeholders are read with readFileSync. */
export function parseConfig(text: string, options: ParseOptions): LoadResult {
  const read = readSource(text);
  return read.ok ? checkSource(read.source, options) : read;
}

/** Validates a configuration file's source. */
function checkSource(source: Source, options: ParseOptions): LoadResult {
  const file = resolve(options.file);
  const baseDir = dirname(file);
  const parsed = source.value;
  if (parsed === null || parsed === undefined) {
    return {
      ok: false,
      errors: [{ path: "(root)", message: "empty file: expected version, gateway and devices" }],
    };
  }
  // secretsDir is read before substitution and is never one itself: it says where ${file:} may read.
  const secretsDir =
    isObject(parsed) && typeof parsed.secretsDir === "string" ? parsed.secretsDir : undefined;
  const sub = substitute(parsed, {
    baseDir,
    env: options.env ?? process.env,
    ...(secretsDir === undefined ? {} : { secretsDir: resolve(baseDir, secretsDir) }),
  });
  const raw: RawError[] = [...sub.errors];
  // A placeholder that failed already has its error; what the schema says about the hole it left is noise.
  const failed = new Set(sub.errors.map((e) => formatPath(e.path)));
  const add = (errors: RawError[]) => raw.push(...errors.filter((e) => !failed.has(formatPath(e.path))));

  const knownTypes = () =>
    typeof options.knownTypes === "function" ? options.knownTypes() : options.knownTypes;
  const top = checkTop(sub.value, sub.coerced);
  add(top.errors);
  const config = top.value;
  const devices = isObject(config) && Array.isArray(config.devices) ? config.devices : [];
  devices.forEach((device, i) => {
    const checked = checkDevice(device, i, {
      lookup: options.lookup,
      knownTypes,
      coerced: sub.coerced,
    });
    add(checked.errors);
    devices[i] = checked.value;
  });
  add(semanticErrors(devices));
  const sinkLookup = options.sinkLookup ?? builtinSink;
  const north = isObject(config) && Array.isArray(config.north) ? config.north : [];
  let northValid = true;
  north.forEach((sink, i) => {
    const checked = checkSink(sink, i, {
      lookup: sinkLookup,
      knownTypes: options.knownSinkTypes ?? (() => BUILTIN_SINKS.map((d) => d.type)),
      coerced: sub.coerced,
    });
    if (checked.errors.length > 0) northValid = false;
    add(checked.errors);
    north[i] = checked.value;
  });
  if (top.errors.length === 0 && northValid) add(sinkIdErrors(north as never, sinkLookup));

  if (raw.length > 0) return { ok: false, errors: source.locate(raw) };
  const valid = config as GatewayConfig;
  valid.dataDir = resolve(baseDir, valid.dataDir);
  for (const device of valid.devices) device.pollPhase ??= valid.pollPhase;
  return { ok: true, config: valid, substituted: sub.substituted.map(formatPath) };
}

/** Reads and validates a configuration file. */
export async function loadConfig(
  file: string,
  lookup: AdapterLookup,
  options: LoadOptions = {},
): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return {
      ok: false,
      errors: [{ path: "(root)", message: `cannot read config file '${file}' (${code})` }],
    };
  }
  const { loadAdapters, loadSinks, ...parseOptions } = options;
  const read = readSource(text);
  if (!read.ok) return read;
  const packageErrors: ConfigError[] = [];
  for (const [key, load] of [
    ["adapters", loadAdapters],
    ["sinks", loadSinks],
  ] as const) {
    const error = load ? await loadPackages(read.source, key, load) : undefined;
    if (error) packageErrors.push(error);
  }
  const result = checkSource(read.source, { ...parseOptions, file, lookup });
  if (packageErrors.length === 0) return result;
  return { ok: false, errors: [...packageErrors, ...(result.ok ? [] : result.errors)] };
}

/**
 * Loads the packages listed under `key` (`adapters` or `sinks`); an error when that fails.
 * Mistakes in the list itself are left to parseConfig.
 */
async function loadPackages(
  source: Source,
  key: "adapters" | "sinks",
  load: (packages: readonly string[]) => Promise<void>,
): Promise<ConfigError | undefined> {
  const list = isObject(source.value) ? source.value[key] : undefined;
  if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === "string"))
    return undefined;
  try {
    await load(list);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return source.locate([{ path: [key], message }])[0];
  }
}
