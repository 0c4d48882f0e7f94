/** A JSON call against a running service's API, for tests that talk to it over real HTTP. */

/** The answer of one call: status and parsed JSON body (undefined when empty). */
export interface ApiAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests index into whatever the API answered
  body: any;
}

/**
 * Returns `call(method, path, body?)` against `base()` + path with `headers()`; `inspect` sees
 * every raw answer first (e.g. to assert that no secret is ever echoed). Base and headers are
 * functions because tests usually learn them in `beforeAll`.
 */
export function apiCaller(
  base: () => string,
  headers: () => Record<string, string>,
  inspect: (text: string) => void = () => {},
): (method: string, path: string, body?: unknown) => Promise<ApiAnswer> {
  return async (method, path, body) => {
    const h = headers();
    const res = await fetch(`${base()}${path}`, {
      method,
      headers: body === undefined ? h : { ...h, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    inspect(text);
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}
