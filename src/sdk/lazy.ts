/**
 * Protocol libraries imported on first need. An adapter or sink type that is built in but not
 * configured should cost nothing: node-opcua's variant module alone adds about 35 MB to a process,
 * mqtt.js, modbus-serial and nats.js 10-20 MB each.
 */

/** A module imported once, on the first `load()`; `get()` hands it out synchronously afterwards. */
export interface LazyModule<M> {
  /** Imports the module (once; a failed import is tried again on the next call). */
  load(): Promise<M>;
  /** The module; throws when `load()` has not resolved yet, which is a bug in the caller. */
  get(): M;
}

/**
 * Wraps a dynamic `import()`: call `load()` at the top of `start()`, and `get()` in the code that
 * runs once started (callbacks of the protocol library, `read`, `write`, `browse`).
 */
export function lazyImport<M>(importer: () => Promise<M>): LazyModule<M> {
  let loaded: M | undefined;
  let pending: Promise<M> | undefined;
  return {
    load() {
      pending ??= importer().then(
        (m) => (loaded = m),
        (err: unknown) => {
          pending = undefined;
          throw err;
        },
      );
      return pending;
    },
    get() {
      if (loaded === undefined) throw new Error("lazyImport: get() called before load() resolved");
      return loaded;
    },
  };
}
