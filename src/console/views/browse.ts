/**
 * The address space of a device that can browse (OPC UA): a lazily expanded tree. Variables can be
 * selected; the gateway has no device/point write API yet, so selected nodes become a YAML snippet
 * to paste into the device's `points:` in the config file (the gateway reloads the file on save).
 */
import { api, seg } from "../api.js";
import { h, replace } from "../dom.js";
import type { BrowseNode } from "../types.js";

const ID_START = /^[A-Za-z0-9_]/;

export function browseView(body: HTMLElement, device: string): void {
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
  replace(
    body,
    h(
      "p",
      { class: "notice" },
      "Select variables to add them as points. Adding points from the console is not possible yet (the gateway has no device/point API): copy the YAML below under this device's ",
      h("code", {}, "points:"),
      " in the config file; the gateway reloads it on save.",
    ),
    h(
      "div",
      { class: "browse" },
      h("div", { class: "tree-pane" }, tree),
      h("div", { class: "yaml-pane" }, snippet, copy),
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
export function yamlFor(device: string, nodes: BrowseNode[]): string {
  if (!nodes.length)
    return `# Select variables in the tree to get their point entries for device "${device}".`;
  const used = new Set<string>();
  const lines = nodes.map((n) => {
    let id = n.name.replace(/[^A-Za-z0-9_.:-]+/g, "_");
    if (!ID_START.test(id)) id = `_${id}`;
    for (let i = 2; used.has(id); i++) id = `${id.replace(/_\d+$/, "")}_${i}`;
    used.add(id);
    const fields = [`id: ${id}`, `type: ${n.type ?? "float64"}`, `address: ${JSON.stringify(n.id)}`];
    if (n.access === "readwrite") fields.push("access: readwrite");
    return `      - { ${fields.join(", ")} }${n.type ? "" : "  # type unknown: check it"}`;
  });
  return [`# under devices: - id: ${device} … points:`, ...lines].join("\n");
}
