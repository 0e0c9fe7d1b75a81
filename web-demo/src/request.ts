// The request form: principal (and its tags), action, resource, and a table of context keys with
// single or multiple values; the global condition keys and the policies' own keys as suggestions.
import type { ContextValueInput, RequestInput } from "@iamlet/engine";
import { h, textInput } from "./dom";
import { GLOBAL_KEYS } from "./keys";
import type { RequestState } from "./state";

/** The values of a multivalued context entry: separated by commas, blanks dropped. */
export function splitValues(text: string): string[] {
  return text
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/** The engine request for the form, with another action and resource for a row of the batch. */
export function buildRequest(r: RequestState, action = r.action, resource = r.resource): RequestInput {
  const context: Record<string, ContextValueInput> = {};
  for (const t of r.principalTags) {
    if (t.key.trim()) context[`aws:PrincipalTag/${t.key.trim()}`] = t.value;
  }
  for (const c of r.context) {
    if (c.key.trim()) context[c.key.trim()] = c.multi ? splitValues(c.value) : c.value;
  }
  const request: RequestInput = { principal: r.principal.trim(), action: action.trim(), resource: resource.trim(), context };
  if (r.resourceAccount.trim()) request.resourceAccount = r.resourceAccount.trim();
  if (r.sessionIssuer.trim()) request.sessionIssuer = r.sessionIssuer.trim();
  return request;
}

export class RequestForm {
  private readonly root: HTMLElement;
  private readonly keyList: HTMLDataListElement;
  private readonly error: HTMLElement;
  private request!: RequestState;

  constructor(
    root: HTMLElement,
    private readonly onChange: () => void,
  ) {
    this.root = root;
    this.keyList = h("datalist", { id: "condition-keys" });
    this.error = h("p", { class: "request-error", id: "request-error", role: "alert", hidden: true });
    this.setSuggestions([]);
  }

  /** Shows the form for `request` (edited in place). */
  render(request: RequestState): void {
    this.request = request;
    const r = request;
    const field = (id: string, label: string, key: "principal" | "action" | "resource" | "resourceAccount" | "sessionIssuer", placeholder: string, hint?: string) =>
      h(
        "div",
        { class: "field" },
        h("label", { for: id }, label),
        textInput(r, key, { id, placeholder, autocomplete: "off", "aria-describedby": hint ? `${id}-hint` : undefined }, this.onChange),
        hint ? h("small", { id: `${id}-hint`, class: "hint" }, hint) : null,
      );
    const more = h(
      "details",
      { class: "more", open: r.resourceAccount !== "" || r.sessionIssuer !== "" },
      h("summary", {}, "Resource account, session issuer"),
      field("req-resource-account", "Resource account", "resourceAccount", "account id, for ARNs without one (S3)"),
      field("req-session-issuer", "Session issuer", "sessionIssuer", "arn:aws:iam::111122223333:role/path/name"),
    );
    this.root.replaceChildren(
      field("req-principal", "Principal", "principal", "arn:aws:iam::111122223333:user/alice"),
      field("req-action", "Action", "action", "s3:GetObject"),
      field("req-resource", "Resource", "resource", "arn:aws:s3:::amzn-s3-demo-bucket/key"),
      more,
      this.tagsTable(),
      this.contextTable(),
      this.error,
      this.keyList,
    );
  }

  private tagsTable(): HTMLElement {
    const r = this.request;
    const rows = r.principalTags.map((t, i) =>
      h(
        "div",
        { class: "kv-row", role: "group", "aria-label": `Principal tag ${i + 1}` },
        textInput(t, "key", { placeholder: "key", "aria-label": "Tag key" }, this.onChange),
        textInput(t, "value", { placeholder: "value", "aria-label": "Tag value" }, this.onChange),
        h("button", { type: "button", class: "icon", "aria-label": `Remove tag ${t.key}`, title: "Remove", onclick: () => this.remove(r.principalTags, i, ".tags") }, "×"),
      ),
    );
    return h(
      "fieldset",
      { class: "kv tags" },
      h("legend", {}, "Principal tags ", h("small", { class: "hint" }, "· sent as aws:PrincipalTag/key")),
      rows,
      h("button", { type: "button", class: "ghost small", onclick: () => this.add(r.principalTags, { key: "", value: "" }, ".tags") }, "+ Tag"),
    );
  }

  private contextTable(): HTMLElement {
    const r = this.request;
    const rows = r.context.map((c, i) =>
      h(
        "div",
        { class: "kv-row ctx-row", role: "group", "aria-label": `Context key ${i + 1}` },
        textInput(c, "key", { placeholder: "aws:SourceIp", list: "condition-keys", "aria-label": "Condition key", class: "ctx-key" }, this.onChange),
        textInput(
          c,
          "value",
          { placeholder: c.multi ? "v1, v2" : "value", "aria-label": c.multi ? "Values, separated by commas" : "Value", class: "ctx-value" },
          this.onChange,
        ),
        h(
          "label",
          { class: "multi", title: "A multivalued key: the values separated by commas" },
          h("input", {
            type: "checkbox",
            checked: c.multi,
            onchange: (e: Event) => {
              c.multi = (e.target as HTMLInputElement).checked;
              const value = (e.target as HTMLElement).closest(".kv-row")?.querySelector<HTMLInputElement>(".ctx-value");
              if (value) value.placeholder = c.multi ? "v1, v2" : "value";
              this.onChange();
            },
          }),
          "list",
        ),
        h("button", { type: "button", class: "icon", "aria-label": `Remove ${c.key || "key"}`, title: "Remove", onclick: () => this.remove(r.context, i, ".context") }, "×"),
      ),
    );
    return h(
      "fieldset",
      { class: "kv context" },
      h("legend", {}, "Context keys ", h("small", { class: "hint" }, "· tick “list” for a multivalued key")),
      rows,
      h("button", { type: "button", class: "ghost small", onclick: () => this.add(r.context, { key: "", value: "", multi: false }, ".context") }, "+ Key"),
    );
  }

  private add<T>(list: T[], item: T, table: string): void {
    list.push(item);
    this.render(this.request);
    this.onChange();
    const inputs = this.root.querySelectorAll<HTMLInputElement>(`${table} .kv-row input:not([type=checkbox])`);
    inputs[inputs.length - 2]?.focus();
  }

  private remove<T>(list: T[], index: number, table: string): void {
    list.splice(index, 1);
    this.render(this.request);
    this.onChange();
    this.root.querySelector<HTMLElement>(`${table} button.small`)?.focus();
  }

  /** Condition keys to suggest: the policies' own first, then AWS's global keys. */
  setSuggestions(policyKeys: string[]): void {
    const seen = new Set(policyKeys.map((k) => k.toLowerCase()));
    this.keyList.replaceChildren(
      ...policyKeys.map((k) => h("option", { value: k, label: "used in the policies" })),
      ...GLOBAL_KEYS.filter(([k]) => !seen.has(k.toLowerCase())).map(([k, hint]) => h("option", { value: k, label: hint })),
    );
  }

  setError(message: string | null): void {
    this.error.hidden = !message;
    this.error.textContent = message ?? "";
  }
}
