/**
 * Writes to devices (operator) and the audit log of them (admin). A write is answered only after
 * the device confirmed it, is never queued for a device that is offline, and every attempt, refused
 * ones included, is on the audit log before the answer goes out.
 */
import { createHash } from "node:crypto";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type, { type Static } from "typebox";
import type { AuditEntry, AuditLog } from "../../core/audit.js";
import { RequestRefused } from "../../core/device.js";
import type { GatewayView } from "../../core/types.js";
import { deviceFailure, errorResponses, fail, refusalCode } from "../errors.js";
import { DeviceParamsSchema, PointParamsSchema } from "../schemas.js";

const WriteBodySchema = Type.Object(
  {
    value: Type.Unknown({
      description: "New value in the point's engineering unit; int64/uint64 may be decimal strings.",
    }),
  },
  { additionalProperties: false },
);

const WriteResultSchema = Type.Object(
  {
    device: Type.String(),
    point: Type.String(),
    value: Type.Unknown({
      description:
        "The value written, in engineering units, as the next read shows it: a scaled integer point answers with its rounding applied (scale 0.1: 12.34 writes raw 123 and answers 12.3), a float32 with the nearest single.",
    }),
    requested: Type.Optional(
      Type.Unknown({ description: "The value as requested, present when it differs from `value`." }),
    ),
    status: Type.Optional(
      Type.String({ description: "Protocol status of the write, e.g. an OPC UA status code name." }),
    ),
    at: Type.String({ format: "date-time", description: "When the device confirmed." }),
  },
  { additionalProperties: false },
);

const AuditEntrySchema = Type.Object(
  {
    at: Type.String({ format: "date-time" }),
    token: Type.String({ description: "Name of the token that asked." }),
    device: Type.String(),
    point: Type.String(),
    oldValue: Type.Optional(Type.Unknown({ description: "Latest value before the write, when known." })),
    newValue: Type.Unknown({ description: "The value as requested." }),
    written: Type.Optional(
      Type.Unknown({
        description: "The value the device was written (engineering units), when it differs from `newValue`.",
      }),
    ),
    outcome: Type.Enum(["ok", "refused", "failed"], {
      description: "ok: confirmed; refused: by the gateway; failed: by the device.",
    }),
    code: Type.Optional(Type.String()),
    message: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
const IDEMPOTENCY_MAX = 1000;

type WriteAnswer = Static<typeof WriteResultSchema>;

/** An idempotency key's claim: the first write's answer, pending or settled. */
interface Claim {
  fingerprint: string;
  answer: Promise<WriteAnswer>;
  at: number;
}

export const writeRoutes: FastifyPluginAsyncTypebox<{ gateway: GatewayView; audit: AuditLog }> = async (
  app,
  { gateway, audit },
) => {
  const claims = new Map<string, Claim>();

  app.put(
    "/devices/:device/points/:point/value",
    {
      config: { role: "operator" },
      // A token whose role may not write is refused before the body is read: audited here.
      onSend: async (request, reply, payload) => {
        const who = request.principal;
        if (reply.statusCode === 403 && who) {
          const { device, point } = request.params as { device: string; point: string };
          await audit.append({
            at: new Date().toISOString(),
            token: who.name,
            device,
            point,
            newValue: null,
            outcome: "refused",
            code: "TB_ERR_FORBIDDEN",
            message: `token '${who.name}' has role ${who.role}; writes need operator`,
          });
        }
        return payload;
      },
      schema: {
        summary: "Write a point; answers after the device confirmed",
        description:
          "Only `access: readwrite` points; type, min/max and what the protocol can encode are checked before anything is sent (422); an offline device, or a part of it that is not answering (a demoted Modbus unit), answers 503 at once. The answer carries the value actually written. An optional `Idempotency-Key` header makes retries safe: the same key and body return the first answer without writing again.",
        tags: ["writes"],
        params: PointParamsSchema,
        headers: Type.Object({
          "idempotency-key": Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        }),
        body: WriteBodySchema,
        response: {
          200: WriteResultSchema,
          ...errorResponses(
            "TB_ERR_BAD_REQUEST",
            "TB_ERR_UNAUTHORIZED",
            "TB_ERR_FORBIDDEN",
            "TB_ERR_DEVICE_NOT_FOUND",
            "TB_ERR_POINT_NOT_FOUND",
            "TB_ERR_POINT_NOT_WRITABLE",
            "TB_ERR_IDEMPOTENCY_CONFLICT",
            "TB_ERR_INVALID_VALUE",
            "TB_ERR_DEVICE_NOT_CONNECTED",
            "TB_ERR_DEVICE_ERROR",
          ),
        },
      },
    },
    async (request) => {
      const { device, point } = request.params;
      const { value } = request.body;
      const token = request.principal?.name ?? "anonymous";
      const key = request.headers["idempotency-key"];
      const fingerprint = createHash("sha256")
        .update(JSON.stringify([device, point, value]))
        .digest("hex");
      const latest = gateway.bus.latest({ devices: [device], points: [point] })[0];
      const entry: AuditEntry = { at: "", token, device, point, newValue: value, outcome: "ok" };
      if (latest) entry.oldValue = latest.value;
      if (key === undefined) return write(entry);
      // Keys are the token's own, and claimed before the device is asked: a concurrent duplicate
      // waits for the first answer instead of writing too. A write that failed frees its key.
      const scoped = `${token}\u0000${key}`;
      forgetExpired(claims);
      const seen = claims.get(scoped);
      if (seen) {
        if (seen.fingerprint === fingerprint) return seen.answer;
        await audit.append({
          ...entry,
          at: new Date().toISOString(),
          outcome: "refused",
          code: "TB_ERR_IDEMPOTENCY_CONFLICT",
          message: `idempotency key '${key}' was used for another write`,
        });
        return fail("TB_ERR_IDEMPOTENCY_CONFLICT");
      }
      const answer = write(entry);
      claim(claims, scoped, { fingerprint, answer, at: Date.now() });
      answer.catch(() => {
        if (claims.get(scoped)?.answer === answer) claims.delete(scoped);
      });
      return answer;
    },
  );

  /** Writes, audits the outcome and answers (or throws the coded refusal). */
  async function write(entry: AuditEntry): Promise<WriteAnswer> {
    const { device, point, newValue: value } = entry;
    try {
      const written = await gateway.write(device, point, value);
      const result: WriteAnswer = { device, point, value: written.value, at: new Date().toISOString() };
      const differs = !sameValue(written.value, value);
      if (differs) result.requested = value;
      if (written.status) result.status = written.status;
      await audit.append({
        ...entry,
        at: result.at,
        ...(differs ? { written: written.value } : {}),
        ...(written.status ? { code: written.status } : {}),
      });
      return result;
    } catch (error) {
      const at = new Date().toISOString();
      if (error instanceof RequestRefused) {
        await audit.append({
          ...entry,
          at,
          outcome: "refused",
          code: refusalCode(error),
          message: error.message,
        });
        throw error;
      }
      const message = error instanceof Error ? error.message : String(error);
      await audit.append({ ...entry, at, outcome: "failed", code: "TB_ERR_DEVICE_ERROR", message });
      return deviceFailure(error);
    }
  }

  app.get(
    "/audit",
    {
      config: { role: "admin" },
      schema: {
        summary: "The write audit log, newest first",
        tags: ["writes"],
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 100 })),
            device: Type.Optional(DeviceParamsSchema.properties.device),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Array(AuditEntrySchema),
          ...errorResponses("TB_ERR_BAD_REQUEST", "TB_ERR_UNAUTHORIZED", "TB_ERR_FORBIDDEN"),
        },
      },
    },
    async (request) => audit.read(request.query.limit ?? 100, request.query.device),
  );
};

/** Whether the value written is the one requested (an int64 may be asked as a string and answered as a number). */
function sameValue(written: unknown, requested: unknown): boolean {
  return JSON.stringify(written) === JSON.stringify(requested);
}

function forgetExpired(map: Map<string, Claim>): void {
  const cutoff = Date.now() - IDEMPOTENCY_TTL_MS;
  for (const [k, v] of map) {
    if (v.at >= cutoff) break; // insertion order is time order
    map.delete(k);
  }
}

function claim(map: Map<string, Claim>, key: string, value: Claim): void {
  map.set(key, value);
  if (map.size > IDEMPOTENCY_MAX) map.delete(map.keys().next().value as string);
}
