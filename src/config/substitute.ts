/**
 * Placeholders in configuration strings, so secrets and per-site values stay out of the file:
 * `${env:NAME}`, `${env:NAME:-default}` (default when unset or empty, as in a shell) and
 * `${file:PATH}` (PATH relative to the config file's directory, one trailing newline trimmed; the
 * file must be inside that directory or `secretsDir`).
 * `$${` stands for a literal `${`.
 *
 * Substituted values are secrets as far as this module knows: no message here ever contains one.
 */
import { readFileSync, realpathSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import type { Path, RawError } from "./errors.js";

/** Where placeholders are resolved from. */
export interface SubstituteOptions {
  /** Directory `${file:…}` paths are relative to: the config file's directory. */
  baseDir: string;
  /** Environment; `process.env` by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Another directory `${file:…}` may read in (`secretsDir`), besides `baseDir`. */
  secretsDir?: string;
}

/** The configuration with placeholders replaced. */
export interface SubstituteResult {
  value: unknown;
  /** Placeholders that could not be resolved. */
  errors: RawError[];
  /**
   * Values that were one whole placeholder and were turned into a number or boolean, by JSON
   * pointer, with the string they came from: where the schema wants a string, the string is used.
   */
  coerced: Map<string, string>;
  /** Paths of every value that had a placeholder, so callers can redact them. */
  substituted: Path[];
}

/** `$${` (a literal), a closed `${…}`, or a `${` that is never closed. */
const PLACEHOLDER = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const KIND = /^(env|file):([\s\S]*)$/;
const WHOLE = /^\$\{(?:env|file):[^}]*\}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** The JSON pointer of a path, as TypeBox's `instancePath` spells it. */
export function toPointer(path: Path): string {
  return path.map((s) => `/${String(s).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

function resolveOne(kind: string, spec: string, options: SubstituteOptions): string | { error: string } {
  if (kind === "env") {
    const sep = spec.indexOf(":-");
    const name = sep === -1 ? spec : spec.slice(0, sep);
    if (!ENV_NAME.test(name)) return { error: `invalid environment variable name '${name}' in \${env:…}` };
    const value = (options.env ?? process.env)[name];
    if (sep !== -1) return value === undefined || value === "" ? spec.slice(sep + 2) : value;
    return (
      value ?? {
        error: `environment variable '${name}' is not set (use \${env:${name}:-default} for a default)`,
      }
    );
  }
  if (spec === "") return { error: "empty path in a file placeholder" };
  const file = resolve(options.baseDir, spec);
  try {
    // Only inside the config file's directory or secretsDir, symbolic links resolved: a config
    // cannot be made to read /etc/shadow or a token file of another program.
    const real = realpathSync(file);
    const roots = [options.baseDir, options.secretsDir].filter((d): d is string => d !== undefined);
    if (!roots.some((root) => within(real, root)))
      return {
        error: `file '${file}' is outside the config file's directory${options.secretsDir ? " and secretsDir" : ""}; put it there or set secretsDir`,
      };
    return readFileSync(real, "utf8").replace(/\r?\n$/, "");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    return { error: `cannot read file '${file}' (${code})` };
  }
}

/** Whether `path` (resolved) is `root` or inside it, `root`'s own links resolved. */
function within(path: string, root: string): boolean {
  let base: string;
  try {
    base = realpathSync(root);
  } catch {
    return false;
  }
  const rel = relative(base, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/** Replaces placeholders in one string; returns undefined when the string had none. */
function substituteString(
  text: string,
  path: Path,
  options: SubstituteOptions,
  out: SubstituteResult,
): string | number | boolean | undefined {
  if (!text.includes("${")) return undefined;
  let failed = false;
  let resolved = false; // a real placeholder, not only `$${` escapes
  const result = text.replace(PLACEHOLDER, (match, inner?: string) => {
    if (match === "$${") return "${";
    resolved = true;
    const parts = inner === undefined ? undefined : KIND.exec(inner);
    const value = parts
      ? resolveOne(parts[1]!, parts[2]!, options)
      : {
          error:
            inner === undefined
              ? `unclosed placeholder: '\${' without '}' (write $\${ for a literal \${)`
              : `unknown placeholder '\${${inner.split(":")[0]}:…}': use \${env:NAME} or \${file:PATH} (write $\${ for a literal \${)`,
        };
    if (typeof value === "string") return value;
    failed = true;
    out.errors.push({ path, message: value.error });
    return "";
  });
  if (result === text) return undefined;
  // Only values that took something from the environment or a file are secrets to mask.
  if (resolved) out.substituted.push(path);
  if (failed || !WHOLE.test(text)) return result;
  // `port: ${env:PORT}` means a number; the schema check may still turn it back into a string.
  if (result === "true" || result === "false" || JSON_NUMBER.test(result)) {
    out.coerced.set(toPointer(path), result);
    return JSON.parse(result) as number | boolean;
  }
  return result;
}

/** A copy of `value` with placeholders replaced; `path` is where it is, a stack shared by the whole walk. */
function walk(
  value: unknown,
  path: (string | number)[],
  options: SubstituteOptions,
  out: SubstituteResult,
): unknown {
  if (typeof value === "string")
    return value.includes("${") ? (substituteString(value, [...path], options, out) ?? value) : value;
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      copy[i] = walk(value[i], path, options, out);
      path.pop();
    }
    return copy;
  }
  if (value !== null && typeof value === "object") {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      path.push(key);
      const v = walk((value as Record<string, unknown>)[key], path, options, out);
      path.pop();
      // defineProperty: a `__proto__` key stays a plain (and then unknown) key.
      if (key === "__proto__")
        Object.defineProperty(copy, key, { value: v, enumerable: true, writable: true, configurable: true });
      else copy[key] = v;
    }
    return copy;
  }
  return value;
}

/** Replaces every placeholder in every string value of `value` (a parsed YAML document); keys are left alone. */
export function substitute(value: unknown, options: SubstituteOptions): SubstituteResult {
  const out: SubstituteResult = { value: undefined, errors: [], coerced: new Map(), substituted: [] };
  out.value = walk(value, [], options, out);
  return out;
}
