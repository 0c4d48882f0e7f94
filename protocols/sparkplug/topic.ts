/**
 * Sparkplug B topic namespace: `spBv1.0/{group}/{messageType}/{edgeNode}[/{device}]`, and
 * `spBv1.0/STATE/{hostId}` for host applications. Pure; used both to ingest (parse) and to publish
 * as an edge node or host (build).
 */

/** The Sparkplug B namespace, first level of every topic. */
export const NAMESPACE = "spBv1.0";

/** Message types carried by edge nodes and devices. */
export const MESSAGE_TYPES = [
  "NBIRTH",
  "NDEATH",
  "NDATA",
  "NCMD",
  "DBIRTH",
  "DDEATH",
  "DDATA",
  "DCMD",
] as const;

/** A Sparkplug message type. */
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** A parsed Sparkplug topic. `device` is set for D* messages only. */
export interface SparkplugTopic {
  group: string;
  type: MessageType;
  edgeNode: string;
  device?: string;
}

const ID = /^[^/+#]+$/;

/** Parses a Sparkplug B topic; undefined when it is not one (STATE topics included). */
export function parseTopic(topic: string): SparkplugTopic | undefined {
  const parts = topic.split("/");
  if (parts[0] !== NAMESPACE || parts.length < 4 || parts.length > 5) return undefined;
  const [, group, type, edgeNode, device] = parts as [string, string, string, string, string | undefined];
  if (!(MESSAGE_TYPES as readonly string[]).includes(type)) return undefined;
  const isDevice = type.startsWith("D");
  if (isDevice !== (device !== undefined)) return undefined;
  if (![group, edgeNode, ...(device === undefined ? [] : [device])].every((p) => ID.test(p)))
    return undefined;
  return device === undefined
    ? { group, type: type as MessageType, edgeNode }
    : { group, type: type as MessageType, edgeNode, device };
}

/** Builds a Sparkplug B topic; throws when an id is empty or holds `/`, `+` or `#`, or the type and device disagree. */
export function buildTopic(t: SparkplugTopic): string {
  const ids = [t.group, t.edgeNode, ...(t.device === undefined ? [] : [t.device])];
  for (const id of ids) if (!ID.test(id)) throw new Error(`invalid Sparkplug id ${JSON.stringify(id)}`);
  if (t.type.startsWith("D") !== (t.device !== undefined))
    throw new Error(`${t.type} ${t.device === undefined ? "needs" : "takes no"} device id`);
  return [NAMESPACE, t.group, t.type, t.edgeNode, ...(t.device === undefined ? [] : [t.device])].join("/");
}

/** The subscription filter for every message of a group, or of one edge node of it. */
export function groupFilter(group: string, edgeNode?: string): string {
  if (!ID.test(group)) throw new Error(`invalid Sparkplug group id ${JSON.stringify(group)}`);
  return edgeNode === undefined ? `${NAMESPACE}/${group}/#` : `${NAMESPACE}/${group}/+/${edgeNode}/#`;
}
