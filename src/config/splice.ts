/**
 * Device and point edits made on the config file's text: the item's lines are replaced, removed or
 * appended, and the rest of the file stays byte for byte, comments included. At 100,000 points the
 * `yaml` library took about 20 s to parse the file into a Document and write it back; this needs
 * one read of the text (positions kept only down to the points lists).
 *
 * Only the usual shape is handled: `devices:` and `points:` as block sequences, the text in the
 * subset fast-yaml.ts reads. Otherwise `spliceEdit` answers undefined and the caller edits a
 * Document (edit.ts), which gives the same result. Conflicts and refused values throw the same
 * errors, with the same messages, as the Document edits.
 */
import { stringify } from "yaml";
import { EditConflict, EditRefused, type EditSpec, LOOKS_MASKED, sameId } from "./edit.js";
import { readYaml } from "./fast-yaml.js";
import { MASK } from "./mask.js";

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * The value to write for a request value: strings literal (`${` → `$${`), and each `***` replaced
 * by what `old` (the item being replaced, as read from the file) holds at the same place.
 */
function literalValue(value: unknown, old: unknown, where: string): unknown {
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    if (typeof v === "string") {
      if (!LOOKS_MASKED.test(v)) return v.replaceAll("${", () => "$${");
      const at = `${where}${path.map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`)).join("")}`;
      let kept: unknown = old;
      for (const segment of path)
        kept = isObject(kept) || Array.isArray(kept) ? (kept as never)[segment] : undefined;
      if (v !== MASK)
        throw new EditRefused(
          at,
          `looks like a masked secret but is not '${MASK}'; send the real value or '${MASK}'`,
        );
      if (kept === undefined || (kept !== null && typeof kept === "object"))
        throw new EditRefused(
          at,
          `'${MASK}' stands for a stored secret, and none is stored here; send the real value`,
        );
      return kept;
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]));
    if (v !== null && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, [...path, k])]));
    return v;
  };
  return walk(value, []);
}

/** A block sequence of the file: its items as read, and where each one's lines start and end. */
interface Block {
  items: unknown[];
  /** Offset of the start of each item's first line (its `-`). */
  starts: number[];
  /** Offset of the end of each item's last line. */
  ends: number[];
  /** Column of the items' `-`. */
  indent: number;
}

const lineStart = (text: string, offset: number) => text.lastIndexOf("\n", offset - 1) + 1;

/** The block sequence `list` read from `text`; undefined when it is not one (missing, empty, flow). */
function block(
  text: string,
  list: unknown,
  positions: NonNullable<ReturnType<typeof readYaml>>["positions"],
) {
  if (!Array.isArray(list) || list.length === 0 || !positions) return undefined;
  const offsets = positions.of.get(list);
  const ends = positions.ends.get(list);
  if (!offsets || !ends) return undefined;
  const starts: number[] = [];
  let indent = -1;
  for (let i = 0; i < list.length; i++) {
    const dash = offsets.get(i)?.[0];
    if (dash === undefined || dash < 0 || text[dash] !== "-") return undefined;
    const start = lineStart(text, dash);
    if (text.slice(start, dash).trim() !== "") return undefined; // `- - x`: not an item on its own lines
    if (indent >= 0 && dash - start !== indent) return undefined;
    indent = dash - start;
    starts.push(start);
  }
  return { items: list, starts, ends, indent } satisfies Block;
}

/** `value` as the lines of one item of a block sequence whose `-` is at column `indent`. */
function render(value: unknown, indent: number): string {
  const pad = " ".repeat(indent);
  return stringify([value], { lineWidth: 0 })
    .replace(/\n$/, "")
    .split("\n")
    .map((line) => (line === "" ? line : pad + line))
    .join("\n");
}

/** `text` with item `i` of `seq` replaced by `value` (or removed when undefined), or `value` appended (`i` = length). */
function spliceItem(text: string, seq: Block, i: number, value: unknown): string | undefined {
  if (i >= seq.items.length) {
    const end = seq.ends[seq.ends.length - 1]!;
    return `${text.slice(0, end)}\n${render(value, seq.indent)}${text.slice(end)}`;
  }
  const start = seq.starts[i]!;
  const end = seq.ends[i]!;
  if (value === undefined && seq.items.length === 1) return undefined; // the list would be left empty: `[]` in a Document
  if (value !== undefined) return text.slice(0, start) + render(value, seq.indent) + text.slice(end);
  // Removed with its line end; a comment line after it (about the next item) stays.
  const next = text.indexOf("\n", end);
  return text.slice(0, start) + (next < 0 ? "" : text.slice(next + 1));
}

const indexOf = (items: readonly unknown[], id: string) =>
  items.findIndex((item) => isObject(item) && item.id === id);

/**
 * `text` with the edit made, or undefined when the file is not of the shape handled here (then
 * edit a Document). Throws EditConflict or EditRefused as the Document edit would.
 */
export function spliceEdit(text: string, spec: EditSpec): string | undefined {
  if (text.includes("\r")) return undefined; // CRLF files: left to the Document edit, which keeps them so
  // Root, devices, each device, its points: positions are needed down to the points lists.
  const read = readYaml(text, { positions: 4 });
  if (!read || !isObject(read.value)) return undefined;
  const devices = block(text, read.value.devices, read.positions);
  if (!devices) return undefined;
  const d = indexOf(devices.items, spec.device);
  if (spec.point === undefined) {
    if (spec.op === "add") {
      if (d >= 0) throw new EditConflict("exists", `device '${spec.device}' exists`);
      const where = `devices[${devices.items.length}]`;
      return spliceItem(text, devices, devices.items.length, literalValue(spec.value, undefined, where));
    }
    if (d < 0) throw new EditConflict("missing", `no device '${spec.device}'`);
    if (spec.op === "remove") return spliceItem(text, devices, d, undefined);
    sameId(spec.device, spec.value!);
    return spliceItem(text, devices, d, literalValue(spec.value, devices.items[d], `devices[${d}]`));
  }
  if (d < 0) throw new EditConflict("missing", `no device '${spec.device}'`);
  const device = devices.items[d] as Record<string, unknown>;
  if (!Array.isArray(device.points)) return undefined; // the Document edit says what is wrong
  const points = block(text, device.points, read.positions);
  if (!points) return undefined;
  const p = indexOf(points.items, spec.point);
  const where = (i: number) => `devices[${d}].points[${i}]`;
  if (spec.op === "add") {
    if (p >= 0) throw new EditConflict("exists", `point '${spec.point}' exists on '${spec.device}'`);
    return spliceItem(
      text,
      points,
      points.items.length,
      literalValue(spec.value, undefined, where(points.items.length)),
    );
  }
  if (p < 0) throw new EditConflict("missing", `no point '${spec.point}' on '${spec.device}'`);
  if (spec.op === "remove") return spliceItem(text, points, p, undefined);
  sameId(spec.point, spec.value!);
  return spliceItem(text, points, p, literalValue(spec.value, points.items[p], where(p)));
}
