/**
 * The client seam: one HTTP request to the webhook, over node:http / node:https with a keep-alive
 * agent. A request resolves only once the whole answer was read, so a connection closed in the
 * middle of a 200 is a failure, never an acknowledgement. Certificates are always verified.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** The complete answer to a request. */
export interface Answer {
  status: number;
  /** `Retry-After` in ms, when the answer has one in seconds. */
  retryAfterMs?: number;
  /** The first bytes of the body, for error messages. */
  excerpt: string;
}

/** One request. */
export interface Request {
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
  /** Aborting fails the request at once (stop()). */
  signal: AbortSignal;
}

/** A connection pool to one URL. */
export interface Client {
  send(request: Request): Promise<Answer>;
  /** Closes idle and open connections. */
  close(): void;
}

const EXCERPT_BYTES = 512;

/** A client for `url`; `ca` replaces the bundled CAs for https. Does no I/O until `send`. */
export function openClient(url: URL, ca?: string): Client {
  const https = url.protocol === "https:";
  const agent = https
    ? new HttpsAgent({ keepAlive: true, maxSockets: 4, ...(ca ? { ca } : {}) })
    : new HttpAgent({ keepAlive: true, maxSockets: 4 });
  const request = https ? httpsRequest : httpRequest;
  return {
    send: (r) =>
      new Promise<Answer>((resolve, reject) => {
        if (r.signal.aborted) return reject(new Error("stopped"));
        const req = request(url, { method: r.method, headers: r.headers, agent });
        const timer = setTimeout(
          () => req.destroy(new Error(`no complete answer within ${r.timeoutMs} ms`)),
          r.timeoutMs,
        );
        const onAbort = () => req.destroy(new Error("stopped"));
        r.signal.addEventListener("abort", onAbort, { once: true });
        const done = () => {
          clearTimeout(timer);
          r.signal.removeEventListener("abort", onAbort);
        };
        req.on("error", (error) => {
          done();
          reject(error);
        });
        req.on("response", (res) => {
          readAnswer(res).then(
            (answer) => {
              done();
              resolve(answer);
            },
            (error: Error) => {
              done();
              reject(error);
            },
          );
        });
        req.end(r.body);
      }),
    close: () => agent.destroy(),
  };
}

/** Reads the whole body, keeping an excerpt; rejects when the connection ends before the body did. */
function readAnswer(res: IncomingMessage): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const kept: Buffer[] = [];
    let size = 0;
    res.on("data", (chunk: Buffer) => {
      if (size < EXCERPT_BYTES) kept.push(chunk.subarray(0, EXCERPT_BYTES - size));
      size += chunk.length;
    });
    res.on("error", reject);
    const cut = () => reject(new Error("connection closed in the middle of the answer"));
    res.on("aborted", cut);
    res.on("close", () => {
      if (!res.complete) cut();
    });
    res.on("end", () => {
      if (!res.complete) return cut();
      const seconds = Number(res.headers["retry-after"]);
      resolve({
        status: res.statusCode ?? 0,
        ...(Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {}),
        excerpt: Buffer.concat(kept).toString("utf8"),
      });
    });
  });
}
