import { type FSWatcher, watch } from "node:fs";
import { mkdtemp, rename, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type ConfigWatcher, watchConfig } from "./watch.js";

/**
 * The file system events are real (the watcher's job is to follow them); the debounce runs on the
 * fake clock. `fence()` waits until every event caused so far has reached the watcher, so the
 * tests then move the clock knowing exactly when the watcher last heard from the file.
 */
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

let dir: string;
let file: string;
let watcher: ConfigWatcher | undefined;
let observer: FSWatcher | undefined;
const DEBOUNCE = 100;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tagbridge-watch-"));
  file = join(dir, "gateway.yaml");
  await writeFile(file, "version: 1\n");
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
});
afterEach(async () => {
  vi.useRealTimers();
  watcher?.close();
  watcher = undefined;
  observer?.close();
  observer = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** A second watch on the directory, seeing the fence markers. */
const markers = new Map<string, () => void>();
let fences = 0;

/**
 * Resolves once the watcher under test has been handed every event caused before this call: a
 * marker file is written and awaited on a second watch of the same directory. libuv shares one
 * inotify watch between both and hands each event to every handle before the next event, in
 * order, so the marker arriving means everything queued before it has arrived too.
 */
async function fence(ms = 2000): Promise<void> {
  const name = `.fence-${++fences}`;
  const seen = new Promise<void>((resolve, reject) => {
    const deadline = realSetTimeout(() => reject(new Error(`no event for ${name} in ${ms} ms`)), ms);
    markers.set(name, () => {
      realClearTimeout(deadline);
      resolve();
    });
  });
  await writeFile(join(dir, name), "");
  await seen;
}

/** Starts watching (the setup write came before the watch, so it is not seen). */
function start(onChange: () => void | Promise<void>, onError?: (err: Error) => void) {
  observer = watch(dir, { persistent: false }, (_event, name) => {
    const done = name === null ? undefined : markers.get(name.toString());
    if (done) {
      markers.delete(name!.toString());
      done();
    }
  });
  watcher = watchConfig(file, onChange, { debounceMs: DEBOUNCE, ...(onError ? { onError } : {}) });
}

describe("watchConfig", () => {
  it("calls once for a burst of writes, after the quiet time", async () => {
    const onChange = vi.fn();
    start(onChange);
    for (let i = 0; i < 5; i++) {
      await writeFile(file, `version: 1\n# edit ${i}\n`);
      await fence();
      await vi.advanceTimersByTimeAsync(10);
    }
    // The last write was heard 10 ms ago: the quiet time ends DEBOUNCE after it.
    await vi.advanceTimersByTimeAsync(DEBOUNCE - 11);
    expect(onChange).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(onChange).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(DEBOUNCE * 3);
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it("follows an editor's save by rename, again and again", async () => {
    const onChange = vi.fn();
    start(onChange);
    for (let i = 1; i <= 2; i++) {
      const tmp = join(dir, `.gateway.yaml.${i}.swp`);
      await writeFile(tmp, `version: 1\n# save ${i}\n`);
      await rename(tmp, file);
      await fence();
      await vi.advanceTimersByTimeAsync(DEBOUNCE);
      expect(onChange).toHaveBeenCalledTimes(i);
    }
  });

  it("stays quiet while the file is missing and calls when it is back", async () => {
    const onChange = vi.fn();
    start(onChange);
    await unlink(file);
    await fence();
    expect(vi.getTimerCount()).toBe(1); // the deletion was heard
    await vi.advanceTimersByTimeAsync(DEBOUNCE * 4); // it looks once more, then waits for the file
    expect(onChange).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
    await writeFile(file, "version: 1\n");
    await fence();
    await vi.advanceTimersByTimeAsync(DEBOUNCE);
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it("ignores other files in the directory", async () => {
    const onChange = vi.fn();
    start(onChange);
    await writeFile(join(dir, "other.yaml"), "x: 1\n");
    await fence();
    expect(vi.getTimerCount()).toBe(0); // heard and ignored: nothing scheduled
    await vi.advanceTimersByTimeAsync(DEBOUNCE * 4);
    expect(onChange).not.toHaveBeenCalled();
    await writeFile(file, "version: 1\n# mine\n");
    await fence();
    await vi.advanceTimersByTimeAsync(DEBOUNCE);
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it("calls nothing after close, even for a change already pending", async () => {
    const onChange = vi.fn();
    start(onChange);
    await writeFile(file, "version: 1\n# pending\n");
    await fence();
    expect(vi.getTimerCount()).toBe(1); // the change is pending
    watcher?.close();
    watcher?.close();
    await writeFile(file, "version: 1\n# after\n");
    await fence();
    await vi.advanceTimersByTimeAsync(DEBOUNCE * 4);
    expect(onChange).not.toHaveBeenCalled();
  });

  it("reports a throwing or rejecting onChange to onError", async () => {
    const errors: Error[] = [];
    let calls = 0;
    start(
      () => {
        calls++;
        if (calls === 1) throw new Error("sync boom");
        return Promise.reject(new Error("async boom"));
      },
      (err) => errors.push(err),
    );
    await writeFile(file, "version: 1\n# 1\n");
    await fence();
    await vi.advanceTimersByTimeAsync(DEBOUNCE);
    expect(errors.map((e) => e.message)).toEqual(["sync boom"]);
    await writeFile(file, "version: 1\n# 2\n");
    await fence();
    await vi.advanceTimersByTimeAsync(DEBOUNCE);
    expect(errors.map((e) => e.message)).toEqual(["sync boom", "async boom"]);
  });
});
