/**
 * Peer certificate trust lists of adapters that keep them (OPC UA): list, trust a rejected one,
 * remove one. Admin only. One set of routes per adapter type, at `/<type>/certificates`.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { CertificateStore } from "../../sdk/adapter.js";
import { errorResponses, fail } from "../errors.js";

const CertificateSchema = Type.Object({
  thumbprint: Type.String({ description: "Id to trust or remove the certificate by." }),
  subject: Type.String(),
  issuer: Type.String(),
  validTo: Type.String({ description: "Expiry, ISO 8601." }),
});
const ListsSchema = Type.Object({
  trusted: Type.Array(CertificateSchema, { description: "Peers the gateway connects to." }),
  rejected: Type.Array(CertificateSchema, { description: "Peers seen and refused, waiting for a decision." }),
});
const ThumbprintParams = Type.Object(
  {
    thumbprint: Type.String({
      pattern: "^[0-9A-Fa-f:]{16,128}$",
      description: "Hex thumbprint, colons allowed.",
    }),
  },
  { additionalProperties: false },
);
const auth = ["TB_ERR_UNAUTHORIZED", "TB_ERR_FORBIDDEN"] as const;

/** What the plugin serves: each adapter type with its store. */
export interface CertificateRoutesOptions {
  stores: readonly { type: string; store: CertificateStore }[];
}

export const certificateRoutes: FastifyPluginAsyncTypebox<CertificateRoutesOptions> = async (
  app,
  { stores },
) => {
  for (const { type, store } of stores) {
    const tags = ["certificates"];
    app.get(
      `/${type}/certificates`,
      {
        config: { role: "admin" },
        schema: {
          summary: `Trusted and rejected ${type} peer certificates`,
          tags,
          response: { 200: ListsSchema, ...errorResponses(...auth) },
        },
      },
      async () => store.list(),
    );
    app.put(
      `/${type}/certificates/:thumbprint/trust`,
      {
        config: { role: "admin" },
        schema: {
          summary: `Trust a rejected ${type} peer certificate; devices use it on their next connect`,
          tags,
          params: ThumbprintParams,
          response: {
            200: CertificateSchema,
            ...errorResponses("TB_ERR_BAD_REQUEST", ...auth, "TB_ERR_CERTIFICATE_NOT_FOUND"),
          },
        },
      },
      async (request) => {
        try {
          const cert = await store.trust(request.params.thumbprint);
          request.log.warn(
            { type, thumbprint: cert.thumbprint, subject: cert.subject, by: request.principal?.name },
            "peer certificate trusted",
          );
          return cert;
        } catch (error) {
          return fail("TB_ERR_CERTIFICATE_NOT_FOUND", [
            { field: "params/thumbprint", message: error instanceof Error ? error.message : String(error) },
          ]);
        }
      },
    );
    app.delete(
      `/${type}/certificates/:thumbprint`,
      {
        config: { role: "admin" },
        schema: {
          summary: `Remove a ${type} peer certificate from either list`,
          tags,
          params: ThumbprintParams,
          response: {
            204: Type.Null(),
            ...errorResponses("TB_ERR_BAD_REQUEST", ...auth, "TB_ERR_CERTIFICATE_NOT_FOUND"),
          },
        },
      },
      async (request, reply) => {
        if (!(await store.remove(request.params.thumbprint))) {
          fail("TB_ERR_CERTIFICATE_NOT_FOUND", [{ field: "params/thumbprint", message: "in neither list" }]);
        }
        request.log.warn(
          { type, thumbprint: request.params.thumbprint, by: request.principal?.name },
          "peer certificate removed",
        );
        return reply.code(204).send(null);
      },
    );
  }
};
