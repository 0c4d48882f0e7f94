/**
 * Configuration errors as a person reads them: a dotted path (`devices[2].points[5].type`), one
 * message per mistake, and the line and column in the YAML file. TypeBox reports a failed union
 * as one error per branch plus the union itself; those are collapsed here into one message.
 */
import type { TLocalizedValidationError } from "typebox/error";
import { type Document, isAlias, isMap, isNode, isScalar, isSeq, type Node } from "yaml";

/** One configuration mistake. */
export interface ConfigError {
  /** Where in the file, e.g. `devices[2].points[5].type`; `(root)` for the whole file. */
  path: string;
  message: string;
  /** 1-based line in the file, when the path (or a parent of it) could be found there. */
  line?: number;
  /** 1-based column. */
  column?: number;
}

/** A path into the configuration: object keys and array indexes. */
export type Path = readonly (string | number)[];

/** An error before it is placed in the file. `at: "key"` points at a key rather than its value. */
export interface RawError {
  path: Path;
  message: string;
  at?: "key" | "value";
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `["devices", 2, "points", 5, "type"]` → `devices[2].points[5].type`; `[]` → `(root)`. */
export function formatPath(path: Path): string {
  if (path.length === 0) return "(root)";
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Turns a JSON pointer into a path; a segment is an index where the value at that point is an array. */
export function pointerToPath(pointer: string, value: unknown): (string | number)[] {
  if (pointer === "") return [];
  const path: (string | number)[] = [];
  let current: unknown = value;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(current) && /^\d+$/.test(key)) {
      path.push(Number(key));
      current = current[Number(key)];
    } else {
      path.push(key);
      current =
        current !== null && typeof current === "object"
          ? (current as Record<string, unknown>)[key]
          : undefined;
    }
  }
  return path;
}

/** The sub-schema at a TypeBox `schemaPath` such as `#/properties/points/items/properties/id`. */
function schemaAt(schema: unknown, schemaPath: string): Record<string, unknown> | undefined {
  let current: unknown = schema;
  for (const raw of schemaPath.replace(/^#\/?/, "").split("/")) {
    if (raw === "") continue;
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current !== null && typeof current === "object" ? (current as Record<string, unknown>) : undefined;
}

const show = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

function oneOf(values: readonly unknown[]): string {
  return `must be one of: ${values.map(show).join(", ")}`;
}

/** The message for one TypeBox error that is not part of a union. */
function messageOf(error: TLocalizedValidationError, schema: unknown): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "const":
      return `must be ${show(params.allowedValue)}`;
    case "enum":
      return oneOf((params.allowedValues as unknown[]) ?? []);
    case "type":
      return `must be ${[params.type].flat().join(" or ")}`;
    case "pattern": {
      // The schema's description says in words what the pattern means.
      const description = schemaAt(schema, error.schemaPath)?.description;
      return typeof description === "string" ? `${error.message} (${description})` : error.message;
    }
    default:
      return error.message;
  }
}

/** Collapses a failed union into one message; all branches failing on the value itself lists the allowed values. */
function collapseUnion(
  union: TLocalizedValidationError,
  branchErrors: TLocalizedValidationError[],
  schema: unknown,
  value: unknown,
  prefix: Path,
): RawError[] {
  const here = branchErrors.filter((e) => e.instancePath === union.instancePath);
  const path = [...prefix, ...pointerToPath(union.instancePath, value)];
  const byBranch = new Map<string, TLocalizedValidationError[]>();
  for (const e of branchErrors) {
    const branch = /^\/(?:anyOf|oneOf)\/(\d+)/.exec(e.schemaPath.slice(union.schemaPath.length))?.[1] ?? "";
    byBranch.set(branch, [...(byBranch.get(branch) ?? []), e]);
  }
  if (
    here.length === branchErrors.length &&
    here.every((e) => ["const", "enum", "type"].includes(e.keyword))
  ) {
    // Each branch failed on the value itself: list what each would accept (a literal fails on both type and const).
    const allowed = new Set<unknown>();
    const types = new Set<string>();
    for (const errors of byBranch.values()) {
      const values = errors.flatMap((e) => {
        const params = e.params as Record<string, unknown>;
        if (e.keyword === "const") return [params.allowedValue];
        return e.keyword === "enum" ? ((params.allowedValues as unknown[]) ?? []) : [];
      });
      for (const v of values) allowed.add(v);
      if (values.length === 0) {
        for (const e of errors)
          for (const t of [(e.params as { type: string | string[] }).type].flat()) types.add(t);
      }
    }
    if (allowed.size === 0) return [{ path, message: `must be ${[...types].join(" or ")}` }];
    return [{ path, message: oneOf([...allowed, ...[...types].map((t) => `any ${t}`)]) }];
  }
  // Tagged objects (a literal field such as `kind`): the tag picks the branch, or lists the choices.
  const tagged = taggedBranch(schemaAt(schema, union.schemaPath), valueAt(value, union.instancePath));
  if (tagged?.branch !== undefined)
    return collapse(byBranch.get(String(tagged.branch)) ?? [], schema, value, prefix);
  if (tagged) return [{ path: [...path, tagged.field], message: oneOf(tagged.choices) }];
  // Objects in a union: report the branch that came closest, when one clearly did.
  const sizes = [...byBranch.values()].map((errors) => errors.length).sort((a, b) => a - b);
  const best = [...byBranch.values()].find((errors) => errors.length === sizes[0]);
  if (best && sizes[0] !== sizes[1]) return collapse(best, schema, value, prefix);
  return [{ path, message: "does not match any of the allowed forms" }];
}

/** The value at a JSON pointer. */
function valueAt(value: unknown, pointer: string): unknown {
  let current = value;
  for (const raw of pointer.split("/").slice(1)) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    current =
      current !== null && typeof current === "object" ? (current as Record<string, unknown>)[key] : undefined;
  }
  return current;
}

/**
 * For a union of objects that all have one literal field (a tag such as `kind`): the index of the
 * branch the value's tag selects, or, when it selects none, the field and its allowed values.
 */
function taggedBranch(
  union: Record<string, unknown> | undefined,
  value: unknown,
): { field: string; branch?: number; choices: unknown[] } | undefined {
  const branches = (union?.anyOf ?? union?.oneOf) as Record<string, unknown>[] | undefined;
  if (!branches || value === null || typeof value !== "object") return undefined;
  const literals = (b: Record<string, unknown>) =>
    Object.entries((b.properties ?? {}) as Record<string, { const?: unknown }>).filter(
      ([, p]) => p.const !== undefined,
    );
  const first = branches[0] ? literals(branches[0]) : [];
  for (const [field] of first) {
    const choices = branches.map((b) => literals(b).find(([f]) => f === field)?.[1].const);
    if (choices.some((c) => c === undefined)) continue;
    const branch = choices.indexOf((value as Record<string, unknown>)[field]);
    return branch >= 0 ? { field, branch, choices } : { field, choices };
  }
  return undefined;
}

function collapse(
  errors: readonly TLocalizedValidationError[],
  schema: unknown,
  value: unknown,
  prefix: Path,
): RawError[] {
  const unions = errors
    .filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf")
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  const consumed = new Set<TLocalizedValidationError>();
  const out: RawError[] = [];
  for (const union of unions) {
    if (consumed.has(union)) continue;
    const branchPrefix = `${union.schemaPath}/${union.keyword}/`;
    // schemaPath has no array indexes: keep only errors under this union's own value.
    const under = (e: TLocalizedValidationError) =>
      e.instancePath === union.instancePath || e.instancePath.startsWith(`${union.instancePath}/`);
    const branchErrors = errors.filter((e) => e.schemaPath.startsWith(branchPrefix) && under(e));
    for (const e of [union, ...branchErrors]) consumed.add(e);
    out.push(...collapseUnion(union, branchErrors, schema, value, prefix));
  }
  for (const e of errors) {
    if (consumed.has(e)) continue;
    const path = [...prefix, ...pointerToPath(e.instancePath, value)];
    if (e.keyword === "boolean" && e.schemaPath.endsWith("/additionalProperties")) continue; // reported below
    if (e.keyword === "additionalProperties") {
      const keys = (e.params as { additionalProperties: string[] }).additionalProperties;
      for (const key of keys) out.push({ path: [...path, key], message: `unknown key '${key}'`, at: "key" });
    } else if (e.keyword === "required") {
      const keys = (e.params as { requiredProperties: string[] }).requiredProperties;
      for (const key of keys) out.push({ path: [...path, key], message: "is required" });
    } else {
      out.push({ path, message: messageOf(e, schema) });
    }
  }
  return out;
}

/**
 * Turns TypeBox errors for `value` (validated against `schema`) into readable errors, each path
 * prefixed with `prefix` (the place of `value` in the whole file).
 */
export function fromSchemaErrors(
  errors: readonly TLocalizedValidationError[],
  schema: unknown,
  value: unknown,
  prefix: Path = [],
): RawError[] {
  return collapse(errors, schema, value, prefix);
}

/** Where the node at a path starts in the file (an offset), or its nearest existing parent; `at: "key"` its key. */
export type Locate = (path: Path, at: "key" | "value") => number | undefined;

/** Line and column (both 1-based) of an offset, as the `yaml` library's LineCounter gives them. */
export interface LinePositions {
  linePos(offset: number): { line: number; col: number };
}

/** Locates paths in a `yaml` Document: the node at `path`, or at its nearest existing parent. */
export function documentLocator(doc: Document): Locate {
  return (path, at) => {
    let node: unknown = doc.contents;
    let found: Node | undefined = isNode(node) ? node : undefined;
    for (const [i, segment] of path.entries()) {
      if (isAlias(node)) node = node.resolve(doc);
      let next: unknown;
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => (isScalar(p.key) ? String(p.key.value) : p.key) === String(segment),
        );
        if (pair && at === "key" && i === path.length - 1 && isNode(pair.key)) return pair.key.range?.[0];
        next = pair?.value;
      } else if (isSeq(node) && typeof segment === "number") {
        next = node.items[segment];
      }
      if (!isNode(next)) return found?.range?.[0];
      node = next;
      found = next;
    }
    return found?.range?.[0];
  };
}

/** Places errors in the file (a Document or a locator of offsets), drops exact duplicates and sorts them by position. */
export function locateErrors(
  raw: readonly RawError[],
  where: Document | Locate | undefined,
  lines: LinePositions,
): ConfigError[] {
  const locate = where === undefined || typeof where === "function" ? where : documentLocator(where);
  const seen = new Set<string>();
  const out: ConfigError[] = [];
  for (const e of raw) {
    const path = formatPath(e.path);
    const id = `${path}\n${e.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const offset = locate?.(e.path, e.at ?? "value");
    if (offset === undefined) out.push({ path, message: e.message });
    else {
      const pos = lines.linePos(offset);
      out.push({ path, message: e.message, line: pos.line, column: pos.col });
    }
  }
  return out.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** One line per error: `gateway.yaml:14:9 devices[2].points[5].type: must be one of: …`. */
export function formatConfigErrors(file: string, errors: readonly ConfigError[]): string {
  return errors
    .map((e) => {
      const where = e.line === undefined ? file : `${file}:${e.line}:${e.column ?? 1}`;
      return `${where} ${e.path}: ${e.message}`;
    })
    .join("\n");
}
