/** Settings of the sparkplug sink (a Sparkplug B 3.0 edge node); the core sink fields are in config.ts. */
import Type, { type Static } from "typebox";
import { MQTT_CONNECTION_FIELDS } from "./mqtt-config.js";

/** The Sparkplug sink's own settings (besides the core sink fields). */
export const SparkplugSettingsSchema = Type.Object(
  {
    ...MQTT_CONNECTION_FIELDS,
    groupId: Type.String({ pattern: "^[^/+#]+$", description: "Sparkplug group id." }),
    edgeNodeId: Type.Optional(
      Type.String({ pattern: "^[^/+#]+$", description: "Sparkplug edge node id; default the gateway id." }),
    ),
    primaryHostId: Type.Optional(
      Type.String({
        pattern: "^[^/+#]+$",
        description:
          "Primary host application id: when set, the edge node publishes only while spBv1.0/STATE/{id} says online (data is buffered meanwhile) and births again when it comes back.",
      }),
    ),
    qos: Type.Optional(
      Type.Enum(["0", "1"], {
        default: "0",
        description:
          "QoS of births and data: 0 (default, as Sparkplug specifies) or 1 (at-least-once to the broker). NDEATH is always QoS 1.",
      }),
    ),
  },
  { additionalProperties: false, description: "Sparkplug B 3.0 edge node sink." },
);

export type SparkplugSettings = Static<typeof SparkplugSettingsSchema>;
