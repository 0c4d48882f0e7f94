/**
 * The address space of a device that can browse (OPC UA): a lazily expanded tree. Selected variables
 * are added as points through the API (admin: validated, written to the config file, applied at
 * once); the YAML of the same entries is shown for anyone who edits the file by hand.
 */
import { ApiError, api, type Role, roleAtLeast, seg } from "../api.js";
import { h, replace } from "../dom.js";
import type { BrowseNode } from "../types.js";

const ID_START = /^[A-Za-z0-9_]/;

export function browseView(body: HTMLElement, device: string, session: { role: Role }): void {
  const selected = new Map<string, BrowseNode>();
  const snippet = h("textarea", {
    class: "yaml",
    readonly: true,
    rows: 8,
    spellcheck: "false",
    "aria-label": "YAML for the selected nodes",
    "data-testid": "browse-yaml",
  });
  const copy = h("button", { type: "button" }, "Copy");
  copy.addEventListener("click", () => {
    snippet.select();
    void navigator.clipboard?.writeText(snippet.value).catch(() => {});
  });
  const refresh = () => {
    snippet.value = yamlFor(device, [...selected.values()]);
  };
  const tree = h("ul", { class: "tree", role: "tree" });
  const result = h("p", { class: "muted", "data-testid": "browse-result" });
  const add = h("button", { type: "button", "data-testid": "browse-add" }, "Add selected as points");
  add.addEventListener("click", () => void addPoints(device, [...selected.values()], result));
  const admin = roleAtLeast(session.role, "admin");
  replace(
    body,
    h(
      "p",
      { class: "notice" },
      admin
        ? "Select variables and add them as points: the gateway validates them, writes them to its config file and starts reading them. The same entries as YAML are on the right."
        : "Select variables to get their point entries. Adding them needs an admin token; or copy the YAML under this device's ",
      admin ? "" : h("code", {}, "points:"),
      admin ? "" : " in the config file; the gateway reloads it on save.",
    ),
    h(
      "div",
      { class: "browse" },
      h("div", { class: "tree-pane" }, tree),
      h("div", { class: "yaml-pane" }, snippet, copy, admin ? add : "", result),
    ),
  );
  refresh();
  void expand(tree, device, undefined, selected, refresh);
}

async function expand(
  list: HTMLElement,
  device: string,
  node: string | undefined,
  selected: Map<string, BrowseNode>,
  changed: () => void,
): Promise<void> {
  replace(list, h("li", { class: "muted" }, "browsing…"));
  let children: BrowseNode[];
  try {
    const query = node === undefined ? "" : `?node=${encodeURIComponent(node)}`;
    children = await api.get<BrowseNode[]>(`devices/${seg(device)}/browse${query}`);
  } catch (error) {
    replace(list, h("li", { class: "error" }, String(error)));
    return;
  }
  if (!children.length) replace(list, h("li", { class: "muted" }, "(empty)"));
  else replace(list, ...children.map((child) => item(child, device, selected, changed)));
}

function item(
  node: BrowseNode,
  device: string,
  selected: Map<string, BrowseNode>,
  changed: () => void,
): HTMLElement {
  const sub = h("ul", { role: "group", hidden: true });
  let open = false;
  const toggle = h("button", { type: "button", class: "toggle", "aria-label": `expand ${node.name}` }, "▸");
  toggle.addEventListener("click", () => {
    open = !open;
    toggle.textContent = open ? "▾" : "▸";
    sub.hidden = !open;
    if (open && !sub.childElementCount) void expand(sub, device, node.id, selected, changed);
  });
  const isVariable = node.kind === "Variable";
  const box = isVariable ? h("input", { type: "checkbox", "aria-label": `add ${node.name}` }) : null;
  box?.addEventListener("change", () => {
    if (box.checked) selected.set(node.id, node);
    else selected.delete(node.id);
    changed();
  });
  return h(
    "li",
    { role: "treeitem", "data-node": node.id },
    node.hasChildren ? toggle : h("span", { class: "toggle" }),
    h(
      "label",
      {},
      box,
      h("span", { class: "node-name" }, node.name),
      h(
        "span",
        { class: "muted" },
        ` ${node.kind}${node.type ? ` · ${node.type}` : ""}${node.access === "readwrite" ? " · writable" : ""}`,
      ),
      h("code", { class: "node-id" }, node.id),
    ),
    sub,
  );
}

/** Point entries for the selected nodes; ids come from display names, made unique and valid. */
export function pointsFor(
  nodes: BrowseNode[],
): { id: string; type: string; address: string; access?: "readwrite" }[] {
  const used = new Set<string>();
  return nodes.map((n) => {
    let id = n.name.replace(/[^A-Za-z0-9_.:-]+/g, "_");
    if (!ID_START.test(id)) id = `_${id}`;
    for (let i = 2; used.has(id); i++) id = `${id.replace(/_\d+$/, "")}_${i}`;
    used.add(id);
    return {
      id,
      type: n.type ?? "float64",
      address: n.id,
      ...(n.access === "readwrite" ? { access: "readwrite" as const } : {}),
    };
  });
}

/** The same entries as YAML, for the config file. */
export function yamlFor(device: string, nodes: BrowseNode[]): string {
  if (!nodes.length)
    return `# Select variables in the tree to get their point entries for device "${device}".`;
  const lines = pointsFor(nodes).map((p, i) => {
    const fields = [`id: ${p.id}`, `type: ${p.type}`, `address: ${JSON.stringify(p.address)}`];
    if (p.access) fields.push("access: readwrite");
    return `      - { ${fields.join(", ")} }${nodes[i]?.type ? "" : "  # type unknown: check it"}`;
  });
  return [`# under devices: - id: ${device} … points:`, ...lines].join("\n");
}

/** Adds each entry with `POST /devices/:device/points`; reports what was added and what was refused. */
async function addPoints(device: string, nodes: BrowseNode[], result: HTMLElement): Promise<void> {
  if (!nodes.length) {
    result.textContent = "Select variables first.";
    return;
  }
  const added: string[] = [];
  const refused: string[] = [];
  for (const point of pointsFor(nodes)) {
    try {
      await api.post(`devices/${seg(device)}/points`, point);
      added.push(point.id);
    } catch (error) {
      const detail = error instanceof ApiError ? error.describe() : String(error);
      refused.push(`${point.id} (${detail})`);
    }
  }
  result.className = refused.length ? "error" : "ok";
  result.textContent = [
    added.length ? `✓ added ${added.join(", ")}` : "",
    refused.length ? `✗ refused ${refused.join("; ")}` : "",
  ]
    .filter(Boolean)
    .join(" · ");
}
