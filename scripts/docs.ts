/**
 * Markdown tables generated from TypeBox schemas, so the docs say exactly what the code validates.
 */
import type { TSchema } from "typebox";

type Json = Record<string, unknown>;

function typeOf(s: Json): string {
  if (Array.isArray(s.enum)) return (s.enum as unknown[]).map((v) => `\`${v}\``).join(" \\| ");
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (Array.isArray(s.anyOf)) return (s.anyOf as Json[]).map(typeOf).join(" \\| ");
  if (s.type === "array") return `${typeOf((s.items as Json) ?? {})}[]`;
  if (typeof s.type === "string") return s.type;
  return "any";
}

function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** Rows of `field | type | required | default | description` for an object schema, nested objects flattened with dots. */
export function fieldRows(schema: TSchema, prefix = ""): string[] {
  const s = schema as Json;
  const props = (s.properties ?? {}) as Record<string, Json>;
  const required = new Set((s.required as string[]) ?? []);
  const rows: string[] = [];
  for (const [name, p] of Object.entries(props)) {
    const path = `${prefix}${name}`;
    const isObject = p.type === "object" && p.properties;
    const def = p.default === undefined ? "" : `\`${JSON.stringify(p.default)}\``;
    rows.push(
      `| \`${path}\` | ${isObject ? "object" : typeOf(p)} | ${required.has(name) ? "yes" : ""} | ${def} | ${escapeCell(String(p.description ?? ""))} |`,
    );
    if (isObject) rows.push(...fieldRows(p as TSchema, `${path}.`));
  }
  return rows;
}

/** A whole markdown table for an object schema. */
export function fieldTable(schema: TSchema): string {
  return [
    "| field | type | required | default | description |",
    "| --- | --- | --- | --- | --- |",
    ...fieldRows(schema),
  ].join("\n");
}

/** Variants of a union of objects told apart by a literal `kind`, each as its own table. */
export function unionTables(union: TSchema, title: (kind: string) => string): string {
  const variants = ((union as Json).anyOf ?? []) as Json[];
  return variants
    .map((v) => {
      const kind = ((v.properties as Record<string, Json>)?.kind?.const as string) ?? "?";
      return `${title(kind)}\n\n${escapeCell(String(v.description ?? ""))}\n\n${fieldTable(v as TSchema)}`;
    })
    .join("\n\n");
}

/** Replaces the text between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`. */
export function replaceSection(text: string, name: string, content: string): string {
  const start = `<!-- generated:${name} -->`;
  const end = `<!-- /generated:${name} -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`markers for '${name}' not found`);
  return `${text.slice(0, i + start.length)}\n${content}\n${text.slice(j)}`;
}
