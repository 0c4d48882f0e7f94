/**
 * OPC UA node id text (OPC 10000-6 §5.1.12, §5.3.1.10): `[ns=<index>;|nsu=<uri>;]<i|s|g|b>=<id>`.
 * Pure. Parsed strictly and whole, because node-opcua's own parser matches unanchored patterns
 * (`ns=1;i=12ab` reads as `ns=1;i=12`, a string id containing `ns=2;i=5` is taken for that) and
 * throws on forms it does not know; here every address is checked once, at config load, and the
 * client builds node ids from the parsed parts rather than from text.
 */

/** The identifier part of a node id. Guids are upper case; byte strings are kept as base64 text. */
export type NodeIdentifier =
  | { kind: "i"; value: number }
  | { kind: "s"; value: string }
  | { kind: "g"; value: string }
  | { kind: "b"; value: string };

/** A node id as written in config: its namespace by index or by URI, and its identifier. */
export interface ParsedNodeId {
  /** Namespace index (0–65535), or the namespace URI of an `nsu=` node id. */
  namespace: number | string;
  identifier: NodeIdentifier;
}

/** The result of parsing: the node id, or why the text is not one. */
export type NodeIdParse = { ok: true; nodeId: ParsedNodeId } | { ok: false; error: string };

/** The longest string identifier OPC UA allows (OPC 10000-3 §8.2.4), in characters. */
export const MAX_STRING_ID = 4096;

const DIGITS = /^[0-9]+$/;
const GUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const FORMS = "expected [ns=<index>;|nsu=<uri>;] followed by i=<number>, s=<string>, g=<guid> or b=<base64>";

const fail = (error: string): NodeIdParse => ({ ok: false, error });

/** Parses the identifier part (`i=…`, `s=…`, `g=…`, `b=…`). */
function parseIdentifier(text: string): { ok: true; id: NodeIdentifier } | { ok: false; error: string } {
  const kind = text.slice(0, 2);
  const body = text.slice(2);
  switch (kind) {
    case "i=": {
      if (!DIGITS.test(body)) return { ok: false, error: `numeric identifier '${body}' is not a number` };
      const value = Number(body);
      if (value > 0xffffffff) return { ok: false, error: `numeric identifier ${body} exceeds 4294967295` };
      return { ok: true, id: { kind: "i", value } };
    }
    case "s=":
      if (body.length === 0) return { ok: false, error: "string identifier is empty" };
      if (body.length > MAX_STRING_ID)
        return { ok: false, error: `string identifier is longer than ${MAX_STRING_ID} characters` };
      return { ok: true, id: { kind: "s", value: body } };
    case "g=":
      if (!GUID.test(body))
        return { ok: false, error: `'${body}' is not a guid (XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX)` };
      return { ok: true, id: { kind: "g", value: body.toUpperCase() } };
    case "b=":
      if (body.length === 0 || !BASE64.test(body))
        return { ok: false, error: `'${body}' is not a base64 byte string` };
      return { ok: true, id: { kind: "b", value: body } };
    default:
      return { ok: false, error: `unknown identifier type in '${text}'; ${FORMS}` };
  }
}

/** Undoes the percent-encoding of `;` and `%` that an `nsu=` URI carries (§5.1.12). */
function decodeUri(text: string): string | undefined {
  if (/%(?![0-9A-Fa-f]{2})/.test(text)) return undefined;
  return text.replace(/%(3[Bb]|25)/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** Parses node id text; refuses anything that is not exactly one of the standard forms. */
export function parseNodeId(text: string): NodeIdParse {
  if (text.length === 0) return fail("node id is empty");
  if (text.trim() !== text) return fail("node id has leading or trailing white space");
  if (text.startsWith("svr=")) return fail("node ids on other servers (svr=) are not supported");
  let namespace: number | string = 0;
  let rest = text;
  if (text.startsWith("ns=")) {
    const cut = text.indexOf(";");
    if (cut < 0) return fail(`'${text}' has a namespace but no identifier; ${FORMS}`);
    const ns = text.slice(3, cut);
    if (!DIGITS.test(ns)) return fail(`namespace index '${ns}' is not a number`);
    namespace = Number(ns);
    if (namespace > 0xffff) return fail(`namespace index ${ns} exceeds 65535`);
    rest = text.slice(cut + 1);
  } else if (text.startsWith("nsu=")) {
    const cut = text.indexOf(";");
    if (cut < 0) return fail(`'${text}' has a namespace URI but no identifier; ${FORMS}`);
    const uri = decodeUri(text.slice(4, cut));
    if (uri === undefined) return fail(`namespace URI '${text.slice(4, cut)}' has a bad % escape`);
    if (uri.length === 0) return fail("namespace URI is empty");
    namespace = uri;
    rest = text.slice(cut + 1);
  }
  const id = parseIdentifier(rest);
  if (!id.ok) return fail(id.error);
  return { ok: true, nodeId: { namespace, identifier: id.id } };
}

/** The canonical text of a node id in namespace `index`: `ns=<index>;<kind>=<value>`. */
export function formatNodeId(index: number, identifier: NodeIdentifier): string {
  return `ns=${index};${identifier.kind}=${identifier.value}`;
}

/**
 * The canonical text of `nodeId` against a server's namespace array: an `nsu=` node id takes the
 * index of its URI there; undefined when the server has no such namespace.
 */
export function resolveNodeId(nodeId: ParsedNodeId, namespaceArray: readonly string[]): string | undefined {
  if (typeof nodeId.namespace === "number") return formatNodeId(nodeId.namespace, nodeId.identifier);
  const index = namespaceArray.indexOf(nodeId.namespace);
  return index < 0 ? undefined : formatNodeId(index, nodeId.identifier);
}
