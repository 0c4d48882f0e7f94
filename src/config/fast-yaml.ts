/**
 * A fast reader for the YAML that configuration files are made of: block maps and sequences, plain
 * and one-line quoted scalars, one-line flow collections, comments. It resolves scalars as the
 * `yaml` library does (YAML 1.2 core schema) and builds the same JavaScript value, 10-20× faster and
 * without a syntax tree. Anything else (anchors, tags, block scalars, multi-line scalars or flow
 * collections, duplicate keys, any syntax error...) makes it answer `undefined`, and the caller
 * reads the text with the `yaml` library instead: that one defines what a file means and reports
 * its syntax errors. So this reader only has to be right when it answers.
 *
 * Positions (where each key and value starts, as the `yaml` library's node ranges) are recorded
 * only when asked, which the loader does only when it has errors to place.
 */
import {
  FLOW_INDICATOR,
  INDICATOR_START,
  isBreakOrSpace,
  isSpace,
  readQuoted,
  refusedChar,
  resolvePlain,
  Unsupported,
  unsupported,
} from "./yaml-scalars.js";

/**
 * Where the keys and values of one map or sequence start: key → [key offset, value offset]. In a
 * block sequence the "key" is the item's `-`; in a flow sequence it is -1.
 */
export type Offsets = Map<string | number, readonly [number, number]>;

/** Start offsets of every node of a value read with `positions: true`. */
export interface Positions {
  /** Offset of the root node; undefined in an empty document. */
  root: number | undefined;
  /** The offsets inside each map (plain object) and sequence (array) of the value. */
  of: WeakMap<object, Offsets>;
  /** Where each item of a block sequence ends: the end of its last line that is not blank or a comment. */
  ends: WeakMap<unknown[], number[]>;
}

/** What to read besides the value. */
export interface ReadOptions {
  /** Record positions; a number records them only in maps and sequences less deep than that (the root is 0). */
  positions?: boolean | number;
}

/** What `readYaml` answers when it can read the text. */
export interface FastYaml {
  value: unknown;
  positions?: Positions;
}

class Reader {
  /** Offset of each line's start, the first content (non-space) character, and its end (before `\r\n`). */
  private readonly starts: number[] = [];
  private readonly firsts: number[] = [];
  private readonly ends: number[] = [];
  /** The next line not yet read. */
  private line = 0;
  /** One past the end of the last scalar or flow collection read. */
  private end = 0;
  /** Where the last value read by `valueAfter` starts (the `yaml` library's node offset). */
  private valueAt = 0;
  private readonly strings = new Map<string, string>();
  readonly positions: Positions | undefined;
  /** Positions are recorded in maps and sequences less deep than this. */
  private readonly limit: number;
  /** How deep the next map or sequence read is (the root is 0). */
  private depth = 0;

  constructor(
    private readonly text: string,
    positions: boolean | number,
  ) {
    this.positions =
      positions === false ? undefined : { root: undefined, of: new WeakMap(), ends: new WeakMap() };
    this.limit = positions === true ? Number.POSITIVE_INFINITY : Number(positions);
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      const lineEnd = end > start && text[end - 1] === "\r" ? end - 1 : end;
      let first = start;
      while (first < lineEnd && text[first] === " ") first++;
      // Blank and comment-only lines carry nothing in block context: they are left out.
      if (first < lineEnd && text[first] !== "#") {
        this.starts.push(start);
        this.firsts.push(first);
        this.ends.push(lineEnd);
      }
      start = end + 1;
    }
  }

  /** The whole document's value. */
  document(): unknown {
    if (this.starts.length === 0) return null;
    const first = this.firsts[0]!;
    if (this.text.startsWith("---", first)) {
      if (first === this.starts[0] && this.restIsEmpty(first + 3)) this.line++;
      else unsupported();
    }
    for (let i = this.line; i < this.starts.length; i++) {
      const f = this.firsts[i]!;
      // Document markers and directives at the start of a line: several documents, or directives.
      if (f === this.starts[i] && /^(?:---|\.\.\.|%)/.test(this.text.slice(f, f + 3))) unsupported();
    }
    if (this.line >= this.starts.length) return null;
    const at = this.firsts[this.line]!;
    const value = this.node(this.line, at, -1, false);
    if (this.positions) this.positions.root = at;
    if (this.line < this.starts.length) unsupported();
    return value;
  }

  private indent(line: number): number {
    return this.firsts[line]! - this.starts[line]!;
  }

  private column(line: number, offset: number): number {
    return offset - this.starts[line]!;
  }

  /** Whether only spaces and a comment follow `offset` on its line. */
  private restIsEmpty(offset: number): boolean {
    let i = offset;
    const end = this.lineEndOf(offset);
    while (i < end && this.text[i] === " ") i++;
    return i === end || (this.text[i] === "#" && i > offset && this.text[i - 1] === " ");
  }

  private lineEndOf(offset: number): number {
    const nl = this.text.indexOf("\n", offset);
    const end = nl < 0 ? this.text.length : nl;
    return end > offset && this.text[end - 1] === "\r" ? end - 1 : end;
  }

  /** One string for repeated short values (types, units, kinds): a config repeats them by the thousand. */
  private intern(s: string): string {
    if (s.length > 16) return s;
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    this.strings.set(s, s);
    return s;
  }

  private record(
    container: object,
    depth: number,
    key: string | number,
    keyAt: number,
    valueAt: number,
  ): void {
    if (!this.positions || depth >= this.limit) return;
    let offsets = this.positions.of.get(container);
    if (!offsets) {
      offsets = new Map();
      this.positions.of.set(container, offsets);
    }
    offsets.set(key, [keyAt, valueAt]);
  }

  /**
   * A node starting at `offset` on `line`: a block map, a block sequence, or an inline value.
   * `parent` is the indentation of the enclosing block (-1 at the root): a scalar's next line must
   * not be deeper. Right after `key:` (`afterKey`) a block map or sequence cannot start.
   */
  private node(line: number, offset: number, parent: number, afterKey: boolean): unknown {
    const text = this.text;
    if (text[offset] === "-" && isBreakOrSpace(text[offset + 1]))
      return afterKey ? unsupported() : this.sequence(line, offset);
    if (this.keyEnd(offset, this.ends[line]!) !== undefined)
      return afterKey ? unsupported() : this.map(line, offset);
    const value = this.inline(offset, false, parent);
    const end = this.end;
    if (!this.restIsEmpty(end)) unsupported();
    // The line after the value's last one (a flow collection may take several).
    let next = line + 1;
    while (next < this.starts.length && this.starts[next]! < end) next++;
    this.line = next;
    // A deeper line after a scalar would continue it (a multi-line scalar) or be an error.
    if (this.line < this.starts.length && this.indent(this.line) > parent) unsupported();
    return value;
  }

  /**
   * The value after `key:` or `-` at `offset` (just past the indicator) of `line`, in a block at
   * `indent`; where it starts is left in `valueAt`.
   */
  private valueAfter(line: number, offset: number, indent: number, sequenceItem: boolean): unknown {
    let i = offset;
    while (isSpace(this.text[i])) i++;
    if (i < this.ends[line]! && this.text[i] !== "#") {
      const value = this.node(line, i, indent, !sequenceItem);
      this.valueAt = i;
      return value;
    }
    this.line = line + 1;
    const next = this.line;
    if (next < this.starts.length) {
      const deeper = this.indent(next) > indent;
      const f = this.firsts[next]!;
      // A map's value may be a sequence at the map's own indentation (`key:\n- a`).
      const compact =
        !sequenceItem &&
        this.indent(next) === indent &&
        this.text[f] === "-" &&
        isBreakOrSpace(this.text[f + 1]);
      if (deeper || compact) {
        const value = this.node(next, f, indent, false);
        this.valueAt = f;
        return value;
      }
    }
    this.valueAt = i;
    return null;
  }

  private sequence(line: number, offset: number): unknown[] {
    const indent = this.column(line, offset);
    const items: unknown[] = [];
    const depth = this.depth;
    const ends: number[] | undefined = this.positions && depth < this.limit ? [] : undefined;
    if (ends) this.positions?.ends.set(items, ends);
    let l = line;
    let at = offset;
    for (;;) {
      this.depth = depth + 1;
      const value = this.valueAfter(l, at + 1, indent, true);
      if (ends) {
        this.record(items, depth, items.length, at, this.valueAt);
        ends.push(this.ends[this.line - 1]!);
      }
      items.push(value);
      l = this.line;
      if (l >= this.starts.length || this.indent(l) < indent) return items;
      at = this.firsts[l]!;
      if (this.indent(l) > indent) unsupported();
      // A key at the same indentation ends a sequence that is a map's value (`key:\n- a\nnext: b`).
      if (this.text[at] !== "-" || !isBreakOrSpace(this.text[at + 1])) return items;
    }
  }

  private map(line: number, offset: number): Record<string, unknown> {
    const indent = this.column(line, offset);
    const map: Record<string, unknown> = {};
    const depth = this.depth;
    let l = line;
    let at = offset;
    for (;;) {
      this.depth = depth + 1;
      const colon = this.keyEnd(at, this.ends[l]!) ?? unsupported();
      const key = this.key(at, colon);
      if (Object.hasOwn(map, key)) unsupported(); // the `yaml` library reports duplicate keys
      const value = this.valueAfter(l, colon + 1, indent, false);
      if (key === "__proto__")
        Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
      else map[key] = value;
      if (this.positions) this.record(map, depth, key, at, this.valueAt);
      l = this.line;
      if (l >= this.starts.length || this.indent(l) < indent) return map;
      if (this.indent(l) > indent) unsupported();
      at = this.firsts[l]!;
      if (this.text[at] === "-" && isBreakOrSpace(this.text[at + 1])) unsupported();
    }
  }

  /** The offset of the `:` that ends a block map key starting at `offset`, when the line holds one. */
  private keyEnd(offset: number, end: number): number | undefined {
    const text = this.text;
    let i = offset;
    const c = text[offset];
    if (c === '"' || c === "'") {
      this.quoted(offset, end);
      i = this.end;
      while (isSpace(text[i])) i++;
      return text[i] === ":" && isBreakOrSpace(text[i + 1]) ? i : undefined;
    }
    if (c === "[" || c === "{") return undefined;
    for (; i < end; i++) {
      const ch = text[i];
      if (ch === "#" && isSpace(text[i - 1])) return undefined;
      if (ch === ":" && isBreakOrSpace(text[i + 1])) return i;
    }
    return undefined;
  }

  /** A block map key from `offset` to the `:` at `colon`, as the property name the `yaml` library makes of it. */
  private key(offset: number, colon: number): string {
    const c = this.text[offset];
    if (c === '"' || c === "'") return this.quoted(offset, colon);
    const raw = this.text.slice(offset, colon).trimEnd();
    if (raw === "" || INDICATOR_START.has(raw[0]!) || /[:#{}[\],]/.test(raw)) unsupported();
    if (raw === "<<") unsupported(); // a merge key in YAML 1.1
    const value = resolvePlain(raw);
    if (value === null) unsupported(); // `~:` means the key "": left to the `yaml` library
    return String(value);
  }

  /**
   * A scalar or flow collection at `offset`; `flow` inside `[…]`/`{…}`. Scalars end on their line;
   * flow collections may go on over lines deeper than `parent`, the enclosing block's indentation.
   */
  private inline(offset: number, flow: boolean, parent: number): unknown {
    const c = this.text[offset];
    const end = this.lineEndOf(offset);
    if (c === '"' || c === "'") return this.quoted(offset, end);
    if (c === "[" || c === "{") return this.flow(offset, parent);
    return this.plain(offset, end, flow);
  }

  private plain(offset: number, end: number, flow: boolean): unknown {
    const text = this.text;
    const c = text[offset];
    if (c === undefined || c === "#" || (INDICATOR_START.has(c) && isBreakOrSpace(text[offset + 1])))
      unsupported();
    if (c !== "-" && c !== "?" && c !== ":" && INDICATOR_START.has(c!)) unsupported();
    if (flow && FLOW_INDICATOR.has(text[offset + 1] ?? "") && INDICATOR_START.has(c!)) unsupported();
    let i = offset;
    let last = offset; // one past the last non-space character
    for (; i < end; i++) {
      const ch = text[i];
      if (ch === " ") continue;
      if (ch === "#" && isSpace(text[i - 1])) break;
      if (ch === ":") {
        const next = text[i + 1];
        if (flow && (isSpace(next) || FLOW_INDICATOR.has(next ?? ""))) break; // a flow map's `key: value`
        if (flow || isBreakOrSpace(next)) unsupported();
      }
      if (flow && (ch === "," || ch === "]" || ch === "}")) break;
      if (flow && (ch === "[" || ch === "{")) unsupported();
      last = i + 1;
    }
    const value = resolvePlain(text.slice(offset, last));
    this.end = last;
    return typeof value === "string" ? this.intern(value) : value;
  }

  /** A quoted scalar that closes on its line. */
  private quoted(offset: number, end: number): string {
    const [value, after] = readQuoted(this.text, offset, end);
    this.end = after;
    return this.intern(value);
  }

  /** Spaces from `i` on its line; where they end. */
  private spaces(i: number): number {
    while (this.text[i] === " ") i++;
    return i;
  }

  /** Spaces, line ends and comments inside a flow collection whose lines are deeper than `parent`. */
  private space(from: number, parent: number): number {
    const text = this.text;
    let i = from;
    for (;;) {
      i = this.spaces(i);
      const c = text[i];
      if (c === "#" && (text[i - 1] === " " || text[i - 1] === "\n")) i = this.lineEndOf(i);
      else if (c === "\r" || c === "\n") {
        i += c === "\r" ? 2 : 1;
        const start = i;
        i = this.spaces(i);
        const next = text[i];
        const blank = next === "\n" || next === "\r" || next === "#" || next === undefined;
        if (!blank && i - start <= parent) unsupported(); // not deeper than the block it is in
      } else return i;
    }
  }

  /** A flow collection (`[…]` or `{…}`); its lines after the first are deeper than `parent`. */
  private flow(offset: number, parent: number): unknown {
    const text = this.text;
    const isMap = text[offset] === "{";
    const close = isMap ? "}" : "]";
    const map: Record<string, unknown> = {};
    const list: unknown[] = [];
    const container = isMap ? map : list;
    const depth = this.depth;
    let i = this.space(offset + 1, parent);
    if (text[i] !== close)
      for (;;) {
        if (i >= text.length) unsupported();
        if (isMap) {
          const keyAt = i;
          const key = this.inline(i, true, parent);
          if (key === null || typeof key === "object") unsupported();
          const name = String(key);
          if (Object.hasOwn(map, name) || name === "__proto__" || name === "<<") unsupported();
          i = this.spaces(this.end);
          if (text[i] !== ":" || text[i + 1] !== " ") unsupported();
          i = this.spaces(i + 1);
          if (text[i] === "," || text[i] === close || i >= this.lineEndOf(i)) unsupported(); // an empty value
          const at = i;
          this.depth = depth + 1;
          map[name] = this.inline(i, true, parent);
          if (this.positions) this.record(map, depth, name, keyAt, at);
        } else {
          if (this.positions) this.record(list, depth, list.length, -1, i);
          this.depth = depth + 1;
          list.push(this.inline(i, true, parent));
        }
        i = this.space(this.end, parent);
        if (text[i] === close) break;
        if (text[i] !== ",") unsupported();
        i = this.space(i + 1, parent);
        if (text[i] === close) break; // a trailing comma
        if (text[i] === ",") unsupported();
      }
    this.end = i + 1;
    return container;
  }
}

/**
 * Reads `text` when it is within the subset this reader handles; `undefined` otherwise (the caller
 * then reads it with the `yaml` library). With `positions`, also where every node starts (and
 * each block sequence item ends).
 */
export function readYaml(text: string, options: ReadOptions = {}): FastYaml | undefined {
  if (refusedChar(text)) return undefined;
  const reader = new Reader(text, options.positions ?? false);
  try {
    const value = reader.document();
    return reader.positions ? { value, positions: reader.positions } : { value };
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}
