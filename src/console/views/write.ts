/** The write form of one writable point: the value typed as the point's type, then the result or the coded error. */
import { ApiError, api, seg } from "../api.js";
import { h, replace } from "../dom.js";
import { formatTime, formatValue } from "../format.js";
import type { PointInfo, WriteResult } from "../types.js";

export function writeForm(device: string, point: PointInfo): HTMLFormElement {
  const input =
    point.type === "bool"
      ? h(
          "select",
          { name: "value", "aria-label": `value for ${point.id}` },
          h("option", {}, "true"),
          h("option", {}, "false"),
        )
      : h("input", {
          name: "value",
          "aria-label": `value for ${point.id}`,
          size: 10,
          placeholder: hint(point),
          inputmode: /^(u?int|float)/.test(point.type) ? "decimal" : undefined,
        });
  const button = h("button", { type: "submit" }, "Write");
  const result = h("span", { class: "write-result", role: "status" });
  const form = h("form", { class: "write" }, input, button, result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let value: unknown;
    try {
      value = parse(input.value, point.type);
    } catch (error) {
      replace(result, h("span", { class: "bad" }, (error as Error).message));
      return;
    }
    button.disabled = true;
    replace(result, "writing…");
    try {
      const done = await api.put<WriteResult>(`devices/${seg(device)}/points/${seg(point.id)}/value`, {
        value,
      });
      replace(
        result,
        h(
          "span",
          { class: "ok", "data-outcome": "ok" },
          `✓ wrote ${formatValue(done.value, point.type)} at ${formatTime(done.at)}${done.status ? ` (${done.status})` : ""}`,
        ),
      );
    } catch (error) {
      const text = error instanceof ApiError ? error.describe() : String(error);
      replace(result, h("span", { class: "bad", "data-outcome": "error" }, `✗ ${text}`));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

function hint(point: PointInfo): string {
  const range = [point.min, point.max].some((v) => v !== undefined)
    ? ` ${point.min ?? ""}…${point.max ?? ""}`
    : "";
  return `${point.type}${range}`;
}

/** The JSON value for a typed input: numbers for numeric types (64-bit ones kept as strings), JSON for json. */
function parse(text: string, type: string): unknown {
  const t = text.trim();
  if (type === "bool") return t === "true";
  if (type === "string" || type === "datetime" || type === "bytes") return text;
  if (type === "json" || type.endsWith("[]")) {
    try {
      return JSON.parse(t);
    } catch {
      throw new Error("not valid JSON");
    }
  }
  if (t === "" || Number.isNaN(Number(t))) throw new Error(`not a number for ${type}`);
  if (/^u?int64$/.test(type) && !Number.isSafeInteger(Number(t))) return t;
  return Number(t);
}
