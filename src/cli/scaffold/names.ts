/**
 * The names and version ranges a new adapter package is generated with, derived once from the
 * adapter type the user gives and from tagbridge's own package.json, so templates stay in step
 * with the SDK and toolchain this build of tagbridge was tested with.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../paths.js";
import { SDK_VERSION } from "../../sdk/version.js";

/** Adapter type names the core accepts (see the conformance rules). */
export const TYPE_NAME = /^[a-z][a-z0-9-]*$/;

/** Everything a template needs to know about the package it writes. */
export interface ScaffoldNames {
  /** Adapter type used in config, e.g. `acme-plc`. */
  type: string;
  /** npm package name, e.g. `tagbridge-adapter-acme-plc`. */
  packageName: string;
  /** PascalCase of the type, for type names: `AcmePlc`. */
  pascal: string;
  /** camelCase of the type, for value names: `acmePlc`. */
  camel: string;
  /** Semver range of the SDK the adapter declares, e.g. `^1.0.0`. */
  sdkRange: string;
  /** Version ranges of the packages the generated package.json names. */
  versions: { tagbridge: string; typebox: string; typescript: string; vitest: string; typesNode: string };
}

/** Derives the names of a new adapter package; throws on a type the core would refuse. */
export function scaffoldNames(type: string, packageName?: string): ScaffoldNames {
  if (!TYPE_NAME.test(type))
    throw new Error(
      `adapter name '${type}' must be lowercase letters, digits and dashes, starting with a letter`,
    );
  const words = type.split("-").filter((w) => w !== "");
  const pascal = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
  return {
    type,
    packageName: packageName ?? `tagbridge-adapter-${type}`,
    pascal,
    camel: pascal[0]!.toLowerCase() + pascal.slice(1),
    sdkRange: `^${SDK_VERSION}`,
    versions: toolVersions(),
  };
}

interface PackageJson {
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function toolVersions(): ScaffoldNames["versions"] {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as PackageJson;
  const dep = (name: string, fallback: string) =>
    pkg.dependencies?.[name] ?? pkg.devDependencies?.[name] ?? fallback;
  return {
    tagbridge: `^${pkg.version}`,
    typebox: dep("typebox", "^1.4.3"),
    typescript: dep("typescript", "~6.0.3"),
    vitest: dep("vitest", "^4.1.12"),
    typesNode: dep("@types/node", "^22.19.0"),
  };
}
