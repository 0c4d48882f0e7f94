/**
 * The client seam: HTTP GET over node:http / node:https with a keep-alive agent per device, so
 * `close()` releases every socket of this device and nothing else. The only I/O of the adapter.
 */
import http from "node:http";
import https from "node:https";
import type { HttpJsonSettings } from "./config.js";

/** A complete HTTP response; any status, since statuses become point qualities. */
export interface HttpResponse {
  status: number;
  body: string;
}

/** Rejection of a request that got no complete response within `timeoutMs`. */
export class RequestTimeout extends Error {
  constructor(url: string, ms: number) {
    super(`GET ${url}: no complete response within ${ms} ms`);
    this.name = "RequestTimeout";
  }
}

/** A request that failed on a reused keep-alive socket; retried once. */
class StaleSocket extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

/** The calls the adapter makes. */
export interface Client {
  /**
   * GETs a URL. Resolves with the response whatever its status; rejects with `RequestTimeout` when
   * it takes longer than the timeout, and with the network error (ECONNREFUSED, …) otherwise.
   */
  get(url: string): Promise<HttpResponse>;
  /** Aborts requests in flight and closes every socket. Idempotent. */
  close(): Promise<void>;
}

/** Makes a client for one device's settings; does no I/O. */
export type ClientFactory = (settings: HttpJsonSettings) => Client;

/** Responses larger than this are refused, so a wrong URL cannot exhaust memory. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** The real client. */
export const openClient: ClientFactory = (settings) => {
  const timeoutMs = settings.timeoutMs ?? 3000;
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const inFlight = new Set<http.ClientRequest>();
  let closed = false;

  const get = async (url: string): Promise<HttpResponse> => {
    try {
      return await attempt(url);
    } catch (error) {
      // A kept-alive socket the server closed between polls fails its next request: retry once on a
      // fresh socket (as the node:http docs advise), so an idle timeout is not taken for an outage.
      if (error instanceof StaleSocket) return attempt(url);
      throw error;
    }
  };

  const attempt = (url: string) =>
    new Promise<HttpResponse>((resolve, reject) => {
      if (closed) return reject(new Error("client closed"));
      const target = new URL(url);
      const secure = target.protocol === "https:";
      const request = (secure ? https : http).get(target, {
        agent: secure ? agents.https : agents.http,
        headers: { accept: "application/json", ...settings.headers },
      });
      const timer = setTimeout(() => request.destroy(new RequestTimeout(url, timeoutMs)), timeoutMs);
      const done = (error: Error | undefined, response?: HttpResponse) => {
        clearTimeout(timer);
        inFlight.delete(request);
        if (error) reject(error);
        else resolve(response!);
      };
      inFlight.add(request);
      request.on("error", (error: NodeJS.ErrnoException) =>
        done(request.reusedSocket && error.code === "ECONNRESET" ? new StaleSocket(error) : error),
      );
      request.on("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES)
            request.destroy(new Error(`GET ${url}: response over ${MAX_BODY_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on("error", (error) => done(error));
        res.on("end", () =>
          done(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        // After "end" this is a no-op (the promise has settled); before it, the response was cut off.
        res.on("close", () => done(new Error(`GET ${url}: response closed before its end`)));
      });
    });

  return {
    get,
    async close() {
      closed = true;
      for (const request of inFlight) request.destroy(new Error("client closed"));
      agents.http.destroy();
      agents.https.destroy();
    },
  };
};
