// Many requests at once: rows of action and resource, each evaluated with the form's principal and
// context, the way the IAM policy simulator runs a list of actions.
import type { Decision } from "@iamlet/engine";
import { h, textInput } from "./dom";
import type { BatchRow } from "./state";

export type RowResult = { decision: Decision; summary: string } | { error: string };

export class BatchTable {
  private rows: BatchRow[] = [];
  private readonly body: HTMLTableSectionElement;

  constructor(
    root: HTMLElement,
    private readonly onChange: () => void,
    /** Loads a row into the request form. */
    private readonly onExplain: (row: BatchRow) => void,
    /** The form's action and resource, for "add the current request". */
    private readonly current: () => BatchRow,
  ) {
    this.body = h("tbody");
    root.replaceChildren(
      h(
        "table",
        { class: "batch-table", "aria-describedby": "batch-heading" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Action"), h("th", { scope: "col" }, "Resource"), h("th", { scope: "col" }, "Decision"), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Row actions")))),
        this.body,
      ),
      h(
        "div",
        { class: "batch-actions" },
        h("button", { type: "button", class: "ghost small", id: "batch-add", onclick: () => this.add({ action: "", resource: "" }) }, "+ Row"),
        h("button", { type: "button", class: "ghost small", onclick: () => this.add({ ...this.current() }) }, "+ Current request"),
      ),
    );
  }

  render(rows: BatchRow[]): void {
    this.rows = rows;
    this.body.replaceChildren(
      ...rows.map((row, i) =>
        h(
          "tr",
          { "data-row": String(i) },
          h(
            "td",
            {},
            textInput(row, "action", { placeholder: "s3:GetObject", "aria-label": `Action of row ${i + 1}` }, this.onChange),
          ),
          h(
            "td",
            {},
            textInput(row, "resource", { placeholder: "arn:aws:s3:::bucket/key", "aria-label": `Resource of row ${i + 1}` }, this.onChange),
          ),
          h("td", { class: "batch-result" }, h("span", { class: "badge small", "data-testid": "batch-decision" }, "…")),
          h(
            "td",
            { class: "row-actions" },
            h("button", { type: "button", class: "ghost small", title: "Explain this row above", "aria-label": `Explain row ${i + 1}`, onclick: () => this.onExplain(row) }, "Explain"),
            h("button", { type: "button", class: "icon", title: "Remove", "aria-label": `Remove row ${i + 1}`, onclick: () => this.remove(i) }, "×"),
          ),
        ),
      ),
    );
    if (rows.length === 0) {
      this.body.append(h("tr", {}, h("td", { colspan: "4", class: "hint" }, "No rows yet: add one, or the current request.")));
    }
  }

  setResults(results: (RowResult | null)[]): void {
    this.body.querySelectorAll<HTMLElement>("[data-testid=batch-decision]").forEach((badge, i) => {
      const r = results[i];
      if (!r) {
        badge.textContent = "—";
        badge.className = "badge small badge-none";
        badge.title = "No decision: see the problems above";
      } else if ("error" in r) {
        badge.textContent = "Error";
        badge.className = "badge small badge-error";
        badge.title = r.error;
      } else {
        badge.textContent = r.decision;
        badge.className = `badge small badge-${r.decision.toLowerCase()}`;
        badge.title = r.summary;
      }
    });
  }

  private add(row: BatchRow): void {
    this.rows.push(row);
    this.render(this.rows);
    this.onChange();
    const inputs = this.body.querySelectorAll<HTMLInputElement>("input");
    inputs[inputs.length - 2]?.focus();
  }

  private remove(index: number): void {
    this.rows.splice(index, 1);
    this.render(this.rows);
    this.onChange();
    document.getElementById("batch-add")?.focus();
  }
}
