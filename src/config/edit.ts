/**
 * Edits of the config file's YAML document, for the device and point API. The `yaml` library's
 * Document keeps comments, key order and formatting of every part an edit does not touch.
 *
 * What the API sends is literal: a `${` in it is written as `$${`, so no request can make the
 * gateway read a host file or an environment variable. A secret masked by the export (`***`) sent
 * back keeps what the file holds at that place (its `${env:…}` placeholder, or the value).
 */
import { type Document, isMap, isNode, isSeq, type Node, type YAMLMap, type YAMLSeq } from "yaml";
import { MASK } from "./mask.js";

/** Why an edit could not be made. */
export class EditConflict extends Error {
  constructor(
    readonly reason: "exists" | "missing",
    message: string,
  ) {
    super(message);
  }
}

/** A value in the request that cannot be written: `path` is where, relative to the config's root. */
export class EditRefused extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** What an edit does, as data: splice.ts makes the same change on the file's text. */
export interface EditSpec {
  op: "add" | "replace" | "remove";
  /** The device added, replaced or removed, or whose point is. */
  device: string;
  /** The point, for point edits. */
  point?: string;
  /** The new device or point, for add and replace. */
  value?: { id: string };
}

/**
 * A change to the document; throws EditConflict or EditRefused when it does not apply. `spec`
 * says what it does, so that it can be made on the text instead of a parsed Document.
 */
export type Edit = ((doc: Document) => void) & { spec?: EditSpec };

const described = (spec: EditSpec, edit: (doc: Document) => void): Edit => Object.assign(edit, { spec });

/** Strings that look like a masked secret: only asterisks, three or more. */
export const LOOKS_MASKED = /^\*{3,}$/;

/**
 * The node to write for a request value: strings literal (`${` → `$${`), and each `***` replaced
 * by what `old` (the node being replaced, if any) holds at the same place.
 */
function literalNode(doc: Document, value: unknown, old: Node | undefined, where: string): Node {
  const restore: { path: (string | number)[]; node: Node }[] = [];
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    if (typeof v === "string") {
      // A function, since "$$" in a replacement string would mean one "$".
      if (!LOOKS_MASKED.test(v)) return v.replaceAll("${", () => "$${");
      const at = `${where}${path.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("")}`;
      const kept = old && isNode(old) ? (old as YAMLMap).getIn?.(path, true) : undefined;
      if (v !== MASK)
        throw new EditRefused(
          at,
          `looks like a masked secret but is not '${MASK}'; send the real value or '${MASK}'`,
        );
      if (!isNode(kept) || isMap(kept) || isSeq(kept))
        throw new EditRefused(
          at,
          `'${MASK}' stands for a stored secret, and none is stored here; send the real value`,
        );
      restore.push({ path, node: kept.clone() as Node });
      return v;
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]));
    if (v !== null && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...path, k])]));
    return v;
  };
  const node = doc.createNode(walk(value, [])) as YAMLMap;
  for (const r of restore) node.setIn(r.path, r.node);
  return node;
}

export function sameId(id: string, value: { id: string }): void {
  if (value.id !== id)
    throw new EditRefused(
      "body.id",
      `the body's id '${value.id}' differs from '${id}' in the path; ids are not renamed by a replace`,
    );
}

function devices(doc: Document): YAMLSeq {
  let seq = doc.get("devices");
  if (!isSeq(seq)) {
    doc.set("devices", doc.createNode([]));
    seq = doc.get("devices");
  }
  return seq as YAMLSeq;
}

function indexOf(seq: YAMLSeq, id: string): number {
  return seq.items.findIndex((item) => isMap(item) && item.get("id") === id);
}

function device(doc: Document, id: string): YAMLMap {
  const seq = devices(doc);
  const i = indexOf(seq, id);
  if (i < 0) throw new EditConflict("missing", `no device '${id}'`);
  return seq.items[i] as YAMLMap;
}

function pointsPath(doc: Document, deviceId: string): string {
  return `devices[${indexOf(devices(doc), deviceId)}].points`;
}

function points(map: YAMLMap, deviceId: string): YAMLSeq {
  const seq = map.get("points");
  if (!isSeq(seq)) throw new EditConflict("missing", `device '${deviceId}' has no points list`);
  return seq as YAMLSeq;
}

/** Appends a device; its id must be new. */
export const addDevice = (value: { id: string }): Edit =>
  described({ op: "add", device: value.id, value }, (doc) => {
    const seq = devices(doc);
    if (indexOf(seq, value.id) >= 0) throw new EditConflict("exists", `device '${value.id}' exists`);
    seq.add(literalNode(doc, value, undefined, `devices[${seq.items.length}]`));
  });

/** Replaces a device in place (same position); the body's id must match. */
export const replaceDevice = (id: string, value: { id: string }): Edit =>
  described({ op: "replace", device: id, value }, (doc) => {
    const seq = devices(doc);
    const i = indexOf(seq, id);
    if (i < 0) throw new EditConflict("missing", `no device '${id}'`);
    sameId(id, value);
    seq.items[i] = literalNode(doc, value, seq.items[i] as Node, `devices[${i}]`);
  });

/** Removes a device. */
export const removeDevice = (id: string): Edit =>
  described({ op: "remove", device: id }, (doc) => {
    const seq = devices(doc);
    const i = indexOf(seq, id);
    if (i < 0) throw new EditConflict("missing", `no device '${id}'`);
    seq.items.splice(i, 1);
  });

/** Appends a point to a device; its id must be new there. */
export const addPoint = (deviceId: string, value: { id: string }): Edit =>
  described({ op: "add", device: deviceId, point: value.id, value }, (doc) => {
    const seq = points(device(doc, deviceId), deviceId);
    if (indexOf(seq, value.id) >= 0)
      throw new EditConflict("exists", `point '${value.id}' exists on '${deviceId}'`);
    seq.add(literalNode(doc, value, undefined, `${pointsPath(doc, deviceId)}[${seq.items.length}]`));
  });

/** Replaces a point in place. */
export const replacePoint = (deviceId: string, id: string, value: { id: string }): Edit =>
  described({ op: "replace", device: deviceId, point: id, value }, (doc) => {
    const seq = points(device(doc, deviceId), deviceId);
    const i = indexOf(seq, id);
    if (i < 0) throw new EditConflict("missing", `no point '${id}' on '${deviceId}'`);
    sameId(id, value);
    seq.items[i] = literalNode(doc, value, seq.items[i] as Node, `${pointsPath(doc, deviceId)}[${i}]`);
  });

/** Removes a point. */
export const removePoint = (deviceId: string, id: string): Edit =>
  described({ op: "remove", device: deviceId, point: id }, (doc) => {
    const seq = points(device(doc, deviceId), deviceId);
    const i = indexOf(seq, id);
    if (i < 0) throw new EditConflict("missing", `no point '${id}' on '${deviceId}'`);
    seq.items.splice(i, 1);
  });
