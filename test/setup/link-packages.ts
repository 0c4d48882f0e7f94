/**
 * vitest global setup: makes the example adapter package and the test fixture packages importable
 * by name, with the symlinks `npm install` would create, so no network or `npm install` step is
 * needed in CI beyond the repo's own `npm ci`:
 * - `examples/http-json-adapter/node_modules/tagbridge` → the repo (its devDependency `file:../..`),
 *   so the example resolves `tagbridge/sdk` through package.json `exports` to `dist/`, as a
 *   published install would. Left in place (gitignored), so the example also builds on its own.
 * - `node_modules/<package>` → the example and the fixtures, as `npm install <dir> --no-save` would,
 *   so the gateway's `import(name)` finds them.
 * The links stay after the run (like an install): several vitest runs may share one checkout, and
 * one run removing a link would break another. `npm ci` wipes them with the rest of node_modules.
 */
import { lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");

/** Package links in the root node_modules: name → directory. */
export const TEST_PACKAGES = {
  "tagbridge-adapter-http-json": join(ROOT, "examples", "http-json-adapter"),
  "tagbridge-sink-http-webhook": join(ROOT, "examples", "http-webhook-sink"),
  "tagbridge-adapter-sdk-mismatch": join(ROOT, "test", "fixtures", "sdk-mismatch-adapter"),
  "tagbridge-adapter-misbehaving": join(ROOT, "test", "fixtures", "misbehaving-adapter"),
  "tagbridge-sink-sdk-mismatch": join(ROOT, "test", "fixtures", "sdk-mismatch-sink"),
};

/** Points `link` at `target` with a relative symlink, unless it already does. */
function link(link: string, target: string): void {
  const wanted = relative(dirname(link), target);
  const current = (() => {
    try {
      return lstatSync(link).isSymbolicLink() ? readlinkSync(link) : "(not a link)";
    } catch {
      return undefined;
    }
  })();
  if (current === wanted) return;
  if (current !== undefined) rmSync(link, { recursive: true, force: true });
  mkdirSync(dirname(link), { recursive: true });
  try {
    symlinkSync(wanted, link, "dir");
  } catch (error) {
    // Another run linked it meanwhile.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST" || readlinkSync(link) !== wanted) throw error;
  }
}

export function setup(): void {
  link(join(ROOT, "examples", "http-json-adapter", "node_modules", "tagbridge"), ROOT);
  link(join(ROOT, "examples", "http-webhook-sink", "node_modules", "tagbridge"), ROOT);
  for (const [name, dir] of Object.entries(TEST_PACKAGES)) link(join(ROOT, "node_modules", name), dir);
}
