/**
 * The process logger: pino, JSON by default, pretty when writing to a terminal. Secrets in
 * config-shaped objects are redacted wherever they appear in a log line.
 */
import pino, { type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "./config/schema.js";

const REDACT = ["password", "token", "secret", "privateKey", "key", "authorization"].flatMap((k) => [
  k,
  `*.${k}`,
  `*.*.${k}`,
  `*.*.*.${k}`,
]);

/**
 * Creates the root logger. `pretty` defaults to whether stdout is a terminal; a `destination`
 * (JSON lines) replaces stdout, e.g. to capture logs in tests.
 */
export function createLogger(
  level: LogLevel = "info",
  pretty: boolean = process.stdout.isTTY === true,
  destination?: DestinationStream,
): Logger {
  const options = { level, redact: { paths: REDACT, censor: "[redacted]" }, base: { pid: process.pid } };
  if (destination) return pino(options, destination);
  if (!pretty) return pino(options);
  return pino({
    ...options,
    base: undefined,
    transport: {
      target: "pino-pretty",
      options: { translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname", colorize: true },
    },
  });
}
