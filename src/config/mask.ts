/** Masks secrets in a config before it leaves the process (API export, logs). */

/** Keys whose values are secrets wherever they appear (device connections, sink settings, HTTP headers). */
const SECRET_KEY = /pass(word|phrase)?$|secret|token|privateKey|api[-_]?key|authorization|credential|cookie/i;
/** What a masked secret reads as. */
export const MASK = "***";

/**
 * A deep copy of `config` with every value under a secret-looking key, and every value that came
 * from a `${env:…}`/`${file:…}` placeholder (paths like `devices[0].connection.password`), masked.
 */
export function maskSecrets(config: unknown, substituted: readonly string[] = []): unknown {
  const fromPlaceholders = new Set(substituted);
  const walk = (value: unknown, path: string): unknown => {
    if (fromPlaceholders.has(path)) return MASK;
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`));
    if (value === null || typeof value !== "object") return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      out[k] = SECRET_KEY.test(k) && v !== undefined && typeof v !== "object" ? MASK : walk(v, p);
    }
    return out;
  };
  return walk(config, "");
}
