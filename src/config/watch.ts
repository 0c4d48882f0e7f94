/**
 * Watches a configuration file for edits. The directory is watched, not the file: editors save by
 * writing a temporary file and renaming it over the original, which ends a watch on the file itself.
 */
import { existsSync, type FSWatcher, watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";

/** Options of `watchConfig`. */
export interface WatchOptions {
  /** Quiet time after the last event before `onChange` runs, in ms. Default 200. */
  debounceMs?: number;
  /** Called when the watch fails (e.g. the directory went away) or `onChange` throws or rejects. */
  onError?: (err: Error) => void;
}

/** A running watch. */
export interface ConfigWatcher {
  /** Stops watching; no `onChange` call follows. Idempotent. */
  close(): void;
}

/**
 * Calls `onChange` once after each burst of changes to `file`, when the file exists. While the file
 * is missing (between an editor's delete and write) nothing is called; its re-creation counts as a change.
 */
export function watchConfig(
  file: string,
  onChange: () => void | Promise<void>,
  opts: WatchOptions = {},
): ConfigWatcher {
  const path = resolve(file);
  const name = basename(path);
  const debounceMs = opts.debounceMs ?? 200;
  const report = (err: unknown) => opts.onError?.(err instanceof Error ? err : new Error(String(err)));
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let recheck = false;

  const fire = () => {
    timer = undefined;
    if (closed) return;
    if (!existsSync(path)) {
      // Perhaps mid-replace: look once more, then wait for the event of its re-creation.
      if (!recheck) {
        recheck = true;
        schedule();
      }
      return;
    }
    recheck = false;
    try {
      const result = onChange();
      if (result instanceof Promise) result.catch(report);
    } catch (err) {
      report(err);
    }
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
  };

  const watcher: FSWatcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
    // Some platforms give no file name; then any event in the directory may be ours.
    if (filename === null || filename.toString() === name) {
      recheck = false;
      schedule();
    }
  });
  watcher.on("error", report);

  return {
    close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
