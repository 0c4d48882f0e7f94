/**
 * Schema validation of the top level and of each device, defaults applied, every error collected.
 */
import type { TObject } from "typebox";
import Type from "typebox";
import { Compile, type Validator } from "typebox/compile";
import type { TLocalizedValidationError } from "typebox/error";
import { Settings } from "typebox/system";
import { CORE_SINK_PROPERTIES } from "../north/config.js";
import { type SinkLookup, sinkSchemaFor } from "../north/sink-schema.js";
import type { AdapterDefinition } from "../sdk/adapter.js";
import { deviceSchemaFor } from "../sdk/point.js";
import { buildProblems, type ProbedDevice } from "../sdk/probe.js";
import type { SinkDefinition } from "../sdk/sink.js";
import { compileDefaults, type Defaults } from "./defaults.js";
import { fromSchemaErrors, type Path, pointerToPath, type RawError } from "./errors.js";
import { GatewayTopSchema, GenericDeviceSchema } from "./schema.js";
import { toPointer } from "./substitute.js";

/** Finds the adapter definition of a device `type`. */
export type AdapterLookup = (type: string) => AdapterDefinition | undefined;

/** TypeBox stops at 8 errors by default (a process-wide setting); a config file wants them all. */
const MAX_ERRORS = 1000;

interface Checker {
  schema: TObject;
  validator: Validator;
  defaults: Defaults;
}

const compile = (schema: TObject): Checker => ({
  schema,
  validator: Compile(schema),
  defaults: compileDefaults(schema),
});
const topChecker = compile(GatewayTopSchema);
const genericChecker = compile(GenericDeviceSchema);
const deviceCheckers = new WeakMap<AdapterDefinition, Checker>();
const sinkCheckers = new WeakMap<SinkDefinition, Checker>();
/** A sink of a type no definition is known for: its core fields are checked, its settings cannot be. */
const genericSinkChecker = compile(
  Type.Object({ type: Type.String(), ...CORE_SINK_PROPERTIES }, { additionalProperties: true }),
);

function deviceChecker(definition: AdapterDefinition): Checker {
  let checker = deviceCheckers.get(definition);
  if (!checker) {
    const schema = deviceSchemaFor(definition.type, definition.connectionSchema, definition.pointSchema);
    checker = compile(schema);
    deviceCheckers.set(definition, checker);
  }
  return checker;
}

function errorsOf(validator: Validator, value: unknown): TLocalizedValidationError[] {
  if (validator.Check(value)) return [];
  const previous = Settings.Get().maxErrors;
  Settings.Set({ maxErrors: MAX_ERRORS }); // synchronous: restored before anyone else can run
  try {
    return validator.Errors(value);
  } finally {
    Settings.Set({ maxErrors: previous });
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

function setAt(root: unknown, path: Path, value: unknown): void {
  let node = root as Record<string | number, unknown>;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

/** A validated (or not) value with its errors, paths prefixed. */
export interface Checked {
  value: unknown;
  errors: RawError[];
}

/**
 * Validates `input` with defaults applied to it in place (the loader's own copy of the file's
 * value: copying it again cost as much as checking it). A value coerced from a whole placeholder
 * (`${env:X}` → 42) that fails where its string would pass is put back as the string.
 */
function check(
  checker: Checker,
  input: unknown,
  prefix: Path,
  coerced: ReadonlyMap<string, string>,
): Checked {
  const value = checker.defaults(input);
  let errors = errorsOf(checker.validator, value);
  const base = toPointer(prefix);
  const suspects = [...new Set(errors.map((e) => e.instancePath))].filter((p) => coerced.has(base + p));
  if (suspects.length > 0) {
    const asString = structuredClone(value);
    for (const p of suspects) setAt(asString, pointerToPath(p, asString), coerced.get(base + p));
    const stringErrors = errorsOf(checker.validator, asString);
    const revert = suspects.filter((p) => !stringErrors.some((e) => e.instancePath === p));
    for (const p of revert) setAt(value, pointerToPath(p, value), coerced.get(base + p));
    if (revert.length > 0) errors = errorsOf(checker.validator, value);
  }
  return { value, errors: fromSchemaErrors(errors, checker.schema, value, prefix) };
}

/** Validates the top level, defaults applied to `input` itself; `devices` items are left to `checkDevice`. */
export function checkTop(input: unknown, coerced: ReadonlyMap<string, string>): Checked {
  return check(topChecker, input, [], coerced);
}

/** What the device checks need to know about adapters. */
export interface DeviceCheckOptions {
  lookup: AdapterLookup;
  /** Known adapter types, listed in the message about an unknown one. */
  knownTypes: () => readonly string[] | undefined;
  coerced: ReadonlyMap<string, string>;
}

/**
 * Validates device `index` against its adapter's device schema, so that errors are about that
 * adapter; a device of unknown type is checked for its core fields only. Defaults are applied to
 * `input` itself.
 */
export function checkDevice(input: unknown, index: number, options: DeviceCheckOptions): Checked {
  const prefix = ["devices", index];
  const type = isObject(input) ? input.type : undefined;
  const definition = typeof type === "string" ? options.lookup(type) : undefined;
  if (definition) {
    // The SDK's reconnect object has no default of its own; its fields do.
    const device = isObject(input) && input.reconnect === undefined ? { ...input, reconnect: {} } : input;
    const checked = check(deviceChecker(definition), device, prefix, options.coerced);
    // The adapter's own checks, and a dry run of its create(), on schema-valid devices only:
    // they may rely on the schema.
    if (checked.errors.length === 0) {
      for (const p of buildProblems(definition, checked.value as ProbedDevice))
        checked.errors.push({ path: [...prefix, ...p.path], message: p.message });
    }
    return checked;
  }
  const checked = check(genericChecker, input, prefix, options.coerced);
  if (typeof type === "string") {
    const types = options.knownTypes() ?? [];
    const known = types.length > 0 ? ` (known: ${[...types].sort().join(", ")})` : "";
    checked.errors.unshift({ path: [...prefix, "type"], message: `unknown adapter type '${type}'${known}` });
  }
  return checked;
}

/** What the north sink checks need to know about sink types. */
export interface SinkCheckOptions {
  lookup: SinkLookup;
  /** Known sink types, listed in the message about an unknown one. */
  knownTypes: () => readonly string[];
  coerced: ReadonlyMap<string, string>;
}

/**
 * Validates `north[index]` against the core sink fields plus its type's settings schema, so that
 * errors are at their paths (`north[2].qos`) and about that sink; a sink of unknown type is checked
 * for its core fields only. A definition's own `check()` runs later (sinkIdErrors), on valid entries.
 */
export function checkSink(input: unknown, index: number, options: SinkCheckOptions): Checked {
  const prefix = ["north", index];
  const type = isObject(input) ? input.type : undefined;
  const definition = typeof type === "string" ? options.lookup(type) : undefined;
  if (definition) {
    let checker = sinkCheckers.get(definition);
    if (!checker) {
      checker = compile(sinkSchemaFor(definition));
      sinkCheckers.set(definition, checker);
    }
    return check(checker, input, prefix, options.coerced);
  }
  const checked = check(genericSinkChecker, input, prefix, options.coerced);
  if (isObject(input) && input.type !== undefined) {
    const message = `must be one of: ${options.knownTypes().join(", ")}`;
    checked.errors = checked.errors.filter((e) => String(e.path[2]) !== "type");
    checked.errors.unshift({ path: [...prefix, "type"], message });
  }
  return checked;
}
