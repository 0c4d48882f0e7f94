/**
 * MQTT topic filters and topic templates. Pure: no sockets, no timers.
 *
 * A template is a topic filter whose levels may also be `{name}`: such a level matches one topic
 * level (like `+`) and binds it to `name`. `plant/{line}/{device}/telemetry` subscribes as
 * `plant/+/+/telemetry` and matching `plant/L1/press-7/telemetry` yields `{line: "L1", device: "press-7"}`.
 * Names given a value in `vars` become fixed levels instead (a narrower subscription).
 */

/** Whether `filter` is a valid MQTT topic filter (`+` and `#` each alone in their level, `#` last). */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes("\u0000")) return false;
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    if (l.includes("#") && (l !== "#" || i !== levels.length - 1)) return false;
    if (l.includes("+") && l !== "+") return false;
  }
  return true;
}

/** Whether `topic` is a valid topic name to publish to (no wildcards, not empty). */
export function isValidTopic(topic: string): boolean {
  return topic.length > 0 && !topic.includes("+") && !topic.includes("#") && !topic.includes("\u0000");
}

/**
 * Whether `topic` matches `filter` under MQTT rules: `+` matches one level, `#` the rest (including
 * the parent level itself), and wildcards at the first level never match topics starting with `$`.
 */
export function matchFilter(filter: string, topic: string): boolean {
  if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === "#") return true;
    if (i >= t.length) return false;
    if (level !== "+" && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** One level of a compiled template. */
type Level = { kind: "literal"; text: string } | { kind: "bind"; name: string } | { kind: "plus" | "hash" };

/** A compiled topic template: its subscription filter, a matcher that binds names, and a renderer. */
export interface TopicTemplate {
  /** The template as written. */
  readonly source: string;
  /** The MQTT filter to subscribe with. */
  readonly filter: string;
  /** Names bound by `{name}` levels, in order. */
  readonly names: readonly string[];
  /** Whether the filter has any wildcard, i.e. can match more than one topic. */
  readonly wildcard: boolean;
  /** The bindings of `topic`, or undefined when it does not match. */
  match(topic: string): Record<string, string> | undefined;
}

const BIND = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** Compiles a topic template; throws an Error saying what is wrong with an invalid one. */
export function compileTemplate(source: string, vars: Readonly<Record<string, string>> = {}): TopicTemplate {
  const levels: Level[] = source.split("/").map((text): Level => {
    const bind = BIND.exec(text);
    if (bind) {
      const name = bind[1]!;
      const fixed = vars[name];
      return fixed === undefined ? { kind: "bind", name } : { kind: "literal", text: fixed };
    }
    if (text === "+") return { kind: "plus" };
    if (text === "#") return { kind: "hash" };
    if (/[{}]/.test(text)) throw new Error(`topic template ${JSON.stringify(source)}: bad level ${text}`);
    return { kind: "literal", text };
  });
  const filter = levels.map((l) => (l.kind === "literal" ? l.text : l.kind === "hash" ? "#" : "+")).join("/");
  if (!isValidFilter(filter))
    throw new Error(`topic template ${JSON.stringify(source)} gives invalid filter ${filter}`);
  const names = levels.flatMap((l) => (l.kind === "bind" ? [l.name] : []));
  if (new Set(names).size !== names.length)
    throw new Error(`topic template ${JSON.stringify(source)} binds a name twice`);
  return {
    source,
    filter,
    names,
    wildcard: levels.some((l) => l.kind !== "literal"),
    match(topic) {
      if (!matchFilter(filter, topic)) return undefined;
      const t = topic.split("/");
      const out: Record<string, string> = {};
      for (let i = 0; i < levels.length; i++) {
        const l = levels[i]!;
        if (l.kind === "bind") out[l.name] = t[i]!;
      }
      return out;
    },
  };
}

/**
 * Fills `{name}` placeholders of a topic (e.g. a command topic) from `values`. Throws when a name
 * has no value or the result is not a publishable topic.
 */
export function renderTopic(template: string, values: Readonly<Record<string, string>>): string {
  const topic = template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`topic ${JSON.stringify(template)}: no value for {${name}}`);
    return v;
  });
  if (!isValidTopic(topic)) throw new Error(`topic ${JSON.stringify(topic)} is not a valid topic to publish`);
  return topic;
}
