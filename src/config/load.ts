/**
 * Loads a gateway configuration file: YAML, placeholders, schema, per-adapter device schemas and
 * semantic checks. The result is either a whole valid config, defaults applied, or every error
 * found; never a partial config.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { isSeq, LineCounter, parseDocument } from "yaml";
import { sinkIdErrors as duplicateSinks, type SinkConfig } from "../north/config.js";
import { type ConfigError, formatPath, locateErrors, type RawError } from "./errors.js";
import type { GatewayConfig } from "./schema.js";
import { semanticErrors } from "./semantic.js";
import { substitute } from "./substitute.js";
import { type AdapterLookup, checkDevice, checkTop } from "./validate.js";

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
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** Every YAML syntax error, with its position. */
function syntaxErrors(errors: readonly { message: string; pos: [number, number] }[], lines: LineCounter) {
  return errors.map((e): ConfigError => {
    const { line, col } = lines.linePos(e.pos[0]);
    return { path: "(root)", message: `YAML syntax error: ${e.message}`, line, column: col };
  });
}

/** Parses and validates configuration text. Synchronous: `${file:…}` placeholders are read with readFileSync. */
export function parseConfig(text: string, options: ParseOptions): LoadResult {
  const file = resolve(options.file);
  const baseDir = dirname(file);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) return { ok: false, errors: syntaxErrors(doc.errors, lines) };
  let parsed: unknown;
  try {
    parsed = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    return { ok: false, errors: [{ path: "(root)", message: `YAML error: ${(err as Error).message}` }] };
  }

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
  if (top.errors.length === 0 && isObject(config) && Array.isArray(config.north))
    add(duplicateSinks(config.north as SinkConfig[]));

  if (raw.length > 0) return { ok: false, errors: locateErrors(raw, doc, lines) };
  const valid = config as GatewayConfig;
  valid.dataDir = resolve(baseDir, valid.dataDir);
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
  const { loadAdapters, ...parseOptions } = options;
  const adapterError = loadAdapters ? await loadAdapterPackages(text, loadAdapters) : undefined;
  const result = parseConfig(text, { ...parseOptions, file, lookup });
  if (!adapterError) return result;
  return { ok: false, errors: [adapterError, ...(result.ok ? [] : result.errors)] };
}

/** Loads the packages in `adapters`; an error when that fails. Mistakes in the list itself are left to parseConfig. */
async function loadAdapterPackages(
  text: string,
  load: (packages: readonly string[]) => Promise<void>,
): Promise<ConfigError | undefined> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) return undefined;
  const adapters = doc.get("adapters");
  const list: unknown = isSeq(adapters) ? adapters.toJSON() : undefined;
  if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === "string"))
    return undefined;
  try {
    await load(list);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return locateErrors([{ path: ["adapters"], message }], doc, lines)[0];
  }
}
