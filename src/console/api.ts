/**
 * The gateway's HTTP API as the console uses it. URLs are relative to the page, so the console
 * works at `/` and behind a proxy prefix alike. The token lives in sessionStorage: it is gone when
 * the tab closes, and never in a cookie, so other sites cannot make requests with it.
 */

const TOKEN_KEY = "tagbridge.token";

export type Role = "viewer" | "operator" | "admin";

/** The API's error shape, `{ error: { code, message, details } }`, as a throwable. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { field: string; message: string }[] = [],
  ) {
    super(message);
  }

  /** `CODE: message (field: detail; …)`, for showing to the user. */
  describe(): string {
    const details = this.details.map((d) => `${d.field}: ${d.message}`).join("; ");
    return `${this.code}: ${this.message}${details ? ` (${details})` : ""}`;
  }
}

export function storedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function storeToken(token: string | undefined): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * Takes a token handed over in the URL fragment (`/#access_token=…`, as the demo prints it) into
 * sessionStorage and removes it from the address bar. Fragments never reach the server or logs.
 */
export function adoptTokenFromFragment(): void {
  const match = /(?:^#|&)access_token=([^&]+)/.exec(location.hash);
  if (!match?.[1]) return;
  storeToken(decodeURIComponent(match[1]));
  history.replaceState(null, "", location.pathname + location.search);
}

const ROLES: Role[] = ["viewer", "operator", "admin"];

export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  const token = storedToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(`api/v1/${path}`, {
      method,
      headers,
      cache: "no-store",
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw new ApiError(
      0,
      "NETWORK",
      `gateway unreachable (${error instanceof Error ? error.message : error})`,
    );
  }
  const text = await response.text();
  const json: unknown = text ? safeParse(text) : undefined;
  if (!response.ok) {
    const e = (json as { error?: { code?: string; message?: string; details?: [] } } | undefined)?.error;
    throw new ApiError(response.status, e?.code ?? `HTTP_${response.status}`, e?.message ?? text, e?.details);
  }
  return json as T;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const api = {
  get: <T>(path: string) => request<T>("GET", path),
  put: <T>(path: string, body: unknown) => request<T>("PUT", path, body),
  post: <T>(path: string, body: unknown) => request<T>("POST", path, body),
};

/** `encodeURIComponent` for path segments. */
export const seg = encodeURIComponent;

/** The WebSocket URL of the reading stream of one device; the token goes as `access_token`. */
export function streamUrl(device: string): string {
  const url = new URL("api/v1/stream", location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("device", device);
  const token = storedToken();
  if (token) url.searchParams.set("access_token", token);
  return url.toString();
}
