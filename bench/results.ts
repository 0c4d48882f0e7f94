/** Rewrites one benchmark's section of bench/RESULTS.md, between markers, keeping the rest. */
import { readFile, writeFile } from "node:fs/promises";

const FILE = new URL("./RESULTS.md", import.meta.url);

export async function writeResults(
  name: string,
  machine: string,
  rows: Record<string, unknown>[],
  rounds: number,
  /** Optional prose placed under the table, inside the markers. */
  notes?: string,
): Promise<void> {
  const cols = Object.keys(rows[0] ?? {});
  const table = [
    `| ${cols.join(" | ")} |`,
    `| ${cols.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${cols.map((c) => String(r[c])).join(" | ")} |`),
  ].join("\n");
  const section = `<!-- ${name}:start -->\nMeasured ${new Date().toISOString().slice(0, 10)} on ${machine}; ${rounds === 1 ? "one run" : `median of ${rounds} rounds`}.\n\n${table}\n${notes ? `\n${notes.trim()}\n` : ""}<!-- ${name}:end -->`;
  const text = await readFile(FILE, "utf8").catch(() => "# Benchmark results\n");
  const re = new RegExp(`<!-- ${name}:start -->[\\s\\S]*<!-- ${name}:end -->`);
  await writeFile(FILE, re.test(text) ? text.replace(re, section) : `${text.trimEnd()}\n\n${section}\n`);
}
