// The active policy's fields above its editor: name, role, organization level, and the Format and
// Remove buttons.
import { byId, h } from "./dom";
import type { PolicyEditor } from "./editor";
import { formatJson } from "./format";
import { KINDS, type PolicyKind, type PolicyTab } from "./state";

/** What the fields report. */
export interface MetaEvents {
  /** A field of the policy changed (a new role changes which fields there are). */
  edited(roleChanged: boolean): void;
  remove(): void;
}

/** Shows the fields of `p` (edited in place), or a hint when there is no policy. */
export function renderMeta(p: PolicyTab | undefined, editor: PolicyEditor | undefined, on: MetaEvents): void {
  const meta = byId("policy-meta");
  if (!p) {
    meta.replaceChildren(h("p", { class: "hint" }, "No policies: everything is implicitly denied. Add one with + Policy."));
    return;
  }
  const isOrg = p.kind === "scp" || p.kind === "rcp";
  const fields: (HTMLElement | null)[] = [
    h(
      "label",
      { class: "meta-field" },
      "Name",
      h("input", {
        id: "policy-name",
        value: p.name,
        spellcheck: "false",
        oninput: (e: Event) => {
          p.name = (e.target as HTMLInputElement).value;
          editor?.setName(p.name);
          on.edited(false);
        },
      }),
    ),
    h(
      "label",
      { class: "meta-field" },
      "Role",
      h(
        "select",
        {
          id: "policy-kind",
          onchange: (e: Event) => {
            p.kind = (e.target as HTMLSelectElement).value as PolicyKind;
            on.edited(true);
          },
        },
        KINDS.map((k) => h("option", { value: k.kind, selected: k.kind === p.kind }, k.label)),
      ),
    ),
    isOrg
      ? h(
          "label",
          { class: "meta-field level", title: "The organization level: 0 for the root, then each OU down to the account" },
          "Level",
          h("input", {
            id: "policy-level",
            type: "number",
            min: "0",
            max: "6",
            value: String(p.level),
            oninput: (e: Event) => {
              const v = Number((e.target as HTMLInputElement).value);
              p.level = Number.isInteger(v) && v >= 0 ? v : 0;
              on.edited(false);
            },
          }),
        )
      : null,
    h("span", { class: "spacer" }),
    h(
      "button",
      {
        type: "button",
        class: "ghost small",
        title: "Reformat the JSON",
        onclick: () => {
          if (!editor) return;
          try {
            editor.setText(formatJson(JSON.parse(editor.text)) + "\n");
          } catch {
            editor.view.focus();
          }
        },
      },
      "Format",
    ),
    h("button", { type: "button", class: "ghost small danger", title: "Remove this policy", onclick: () => on.remove() }, "Remove"),
  ];
  meta.replaceChildren(...fields.filter((f): f is HTMLElement => f !== null));
}
