/**
 * Edits of the config file's YAML document, for the device and point API. The `yaml` library's
 * Document keeps comments, key order and formatting of every part an edit does not touch.
 */
import { type Document, isMap, isSeq, type YAMLMap, type YAMLSeq } from "yaml";

/** Why an edit could not be made. */
export class EditConflict extends Error {
  constructor(
    readonly reason: "exists" | "missing",
    message: string,
  ) {
    super(message);
  }
}

/** A change to the document; throws EditConflict when it does not apply. */
export type Edit = (doc: Document) => void;

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

function points(map: YAMLMap, deviceId: string): YAMLSeq {
  const seq = map.get("points");
  if (!isSeq(seq)) throw new EditConflict("missing", `device '${deviceId}' has no points list`);
  return seq as YAMLSeq;
}

/** Appends a device; its id must be new. */
export const addDevice =
  (value: { id: string }): Edit =>
  (doc) => {
    const seq = devices(doc);
    if (indexOf(seq, value.id) >= 0) throw new EditConflict("exists", `device '${value.id}' exists`);
    seq.add(doc.createNode(value));
  };

/** Replaces a device in place (same position); the body's id must match. */
export const replaceDevice =
  (id: string, value: { id: string }): Edit =>
  (doc) => {
    const seq = devices(doc);
    const i = indexOf(seq, id);
    if (i < 0) throw new EditConflict("missing", `no device '${id}'`);
    if (value.id !== id && indexOf(seq, value.id) >= 0)
      throw new EditConflict("exists", `device '${value.id}' exists`);
    seq.items[i] = doc.createNode(value);
  };

/** Removes a device. */
export const removeDevice =
  (id: string): Edit =>
  (doc) => {
    const seq = devices(doc);
    const i = indexOf(seq, id);
    if (i < 0) throw new EditConflict("missing", `no device '${id}'`);
    seq.items.splice(i, 1);
  };

/** Appends a point to a device; its id must be new there. */
export const addPoint =
  (deviceId: string, value: { id: string }): Edit =>
  (doc) => {
    const seq = points(device(doc, deviceId), deviceId);
    if (indexOf(seq, value.id) >= 0)
      throw new EditConflict("exists", `point '${value.id}' exists on '${deviceId}'`);
    seq.add(doc.createNode(value));
  };

/** Replaces a point in place. */
export const replacePoint =
  (deviceId: string, id: string, value: { id: string }): Edit =>
  (doc) => {
    const seq = points(device(doc, deviceId), deviceId);
    const i = indexOf(seq, id);
    if (i < 0) throw new EditConflict("missing", `no point '${id}' on '${deviceId}'`);
    if (value.id !== id && indexOf(seq, value.id) >= 0)
      throw new EditConflict("exists", `point '${value.id}' exists on '${deviceId}'`);
    seq.items[i] = doc.createNode(value);
  };

/** Removes a point. */
export const removePoint =
  (deviceId: string, id: string): Edit =>
  (doc) => {
    const seq = points(device(doc, deviceId), deviceId);
    const i = indexOf(seq, id);
    if (i < 0) throw new EditConflict("missing", `no point '${id}' on '${deviceId}'`);
    seq.items.splice(i, 1);
  };
