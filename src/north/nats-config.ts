/** Settings of the nats sink (NATS JetStream); the core sink fields are in config.ts. */
import Type, { type Static } from "typebox";

/** The NATS sink's own settings (besides the core sink fields). */
export const NatsSettingsSchema = Type.Object(
  {
    servers: Type.Array(Type.String({ pattern: "^(nats|tls)://" }), {
      minItems: 1,
      description: "NATS server URLs, e.g. [nats://nats-1:4222, nats://nats-2:4222].",
    }),
    username: Type.Optional(Type.String({ description: "User name." })),
    password: Type.Optional(Type.String({ description: "Password; use an env or file placeholder." })),
    token: Type.Optional(
      Type.String({ description: "Authentication token; use an env or file placeholder." }),
    ),
    subject: Type.Optional(
      Type.String({
        minLength: 1,
        default: "tagbridge.{gateway}.{device}.{point}",
        description:
          "Subject of a reading; {gateway}, {device}, {point} are filled in ('.', '*', '>' and spaces in ids become '_').",
      }),
    ),
    stream: Type.Optional(
      Type.Object(
        {
          name: Type.Optional(
            Type.String({
              pattern: "^[A-Za-z0-9_-]+$",
              default: "TAGBRIDGE",
              description: "JetStream stream the subjects belong to. Default TAGBRIDGE.",
            }),
          ),
          create: Type.Optional(
            Type.Enum(["if-missing", "never"], {
              default: "if-missing",
              description:
                "if-missing (default): create the stream (file storage, subjects tagbridge.{gateway}.>) when it does not exist. never: it must exist.",
            }),
          ),
          subjects: Type.Optional(
            Type.Array(Type.String({ minLength: 1 }), {
              description: "Subjects of a created stream; default the subject template's prefix plus '>'.",
            }),
          ),
          duplicateWindowMs: Type.Optional(
            Type.Integer({
              minimum: 1_000,
              default: 120_000,
              description: "De-duplication window of a created stream, in ms. Default 2 min.",
            }),
          ),
        },
        { additionalProperties: false, description: "JetStream stream." },
      ),
    ),
  },
  { additionalProperties: false, description: "NATS JetStream sink." },
);

export type NatsSettings = Static<typeof NatsSettingsSchema>;
