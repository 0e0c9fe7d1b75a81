// The policies: a tab per policy (its name, role, problem count and whether it holds the deciding
// statement), each policy's editor, the active policy's name, role and level, and adding and
// removing policies.
import type { Finding, PolicyInput, PolicyProblem, StatementRef } from "@iamlet/engine";
import { byId, h } from "./dom";
import { findingRange, problemRange, PolicyEditor, type Mark } from "./editor";
import { formatJson } from "./format";
import { statementRange } from "./jsonspan";
import { renderMeta } from "./meta";
import type { Session } from "./session";
import { kindInfo } from "./state";

/** What a tab shows of the last evaluation. */
interface TabResult {
  problems: number;
  deciding: "allow" | "deny" | null;
}

const TEMPLATE = {
  Version: "2012-10-17",
  Statement: [{ Sid: "NewStatement", Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
};

const isOrganization = (kind: string) => kind === "scp" || kind === "rcp";

export class PolicyTabs {
  private editors: PolicyEditor[] = [];
  private results: TabResult[] = [];

  constructor(private readonly session: Session) {
    byId("add-policy").addEventListener("click", () => this.add());
  }

  private get state() {
    return this.session.state;
  }

  /** The policies' names as explanations show them: made unique with ` (2)`, ` (3)`… */
  names(): string[] {
    const seen = new Map<string, number>();
    return this.state.policies.map((p) => {
      const base = p.name.trim() || "policy";
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      return n === 1 ? base : `${base} (${n})`;
    });
  }

  /** The policies as the engine takes them, under `names`. */
  inputs(names: string[]): PolicyInput[] {
    return this.state.policies.map((p, i) => {
      const input: PolicyInput = { policyType: kindInfo(p.kind).type, document: this.text(i), name: names[i] };
      if (isOrganization(p.kind)) input.level = p.level;
      return input;
    });
  }

  /** The text of policy `index`'s editor. */
  text(index: number): string {
    return this.editors[index].text;
  }

  /** A new state's policies: new editors, and no results yet. */
  reset(): void {
    this.results = [];
    this.rebuild();
  }

  /** Shows policy `index` (within range). */
  activate(index: number): void {
    this.state.active = Math.max(0, Math.min(index, this.state.policies.length - 1));
    this.editors.forEach((ed, i) => {
      ed.element.hidden = i !== this.state.active;
      if (i === this.state.active) ed.refresh();
    });
    this.render();
    this.renderMeta();
    this.session.changedQuietly();
  }

  /** The problems and lint findings of each policy, into its editor and its tab's count. */
  setProblems(problems: PolicyProblem[][], findings: Finding[][]): void {
    problems.forEach((list, i) => this.editors[i].setProblems(list, findings[i]));
    this.results = problems.map((list, i) => ({ problems: list.length, deciding: this.results[i]?.deciding ?? null }));
  }

  /** The deciding statements of each policy, highlighted in its editor and marked on its tab. */
  setMarks(marks: Mark[][]): void {
    marks.forEach((m, i) => this.editors[i].setMarks(m));
    this.results = marks.map((m, i) => ({
      problems: this.results[i]?.problems ?? 0,
      deciding: m.length === 0 ? null : m.some((x) => x.effect === "Deny") ? "deny" : "allow",
    }));
    this.render();
  }

  /** Shows a statement of an explanation in its editor. */
  revealStatement(ref: StatementRef): void {
    const index = this.names().indexOf(ref.policy);
    if (index < 0) return;
    this.activate(index);
    const range = statementRange(this.text(index), ref.statement);
    this.editors[index].reveal(range?.from ?? 0);
  }

  /** Shows the element a problem of policy `index` is about. */
  revealProblem(index: number, problem: PolicyProblem): void {
    this.reveal(index, problemRange(this.text(index), problem));
  }

  /** Shows the element a finding of policy `index` is about. */
  revealFinding(index: number, finding: Finding): void {
    this.reveal(index, findingRange(this.text(index), finding));
  }

  private reveal(index: number, range: { from: number; to: number }): void {
    this.activate(index);
    this.editors[index].reveal(range.from, range.to);
  }

  private render(): void {
    const names = this.names();
    byId("tabs").replaceChildren(
      ...this.state.policies.map((p, i) => {
        const selected = i === this.state.active;
        const { problems, deciding } = this.results[i] ?? { problems: 0, deciding: null };
        return h(
          "button",
          {
            type: "button",
            role: "tab",
            id: `tab-${i}`,
            class: `tab${problems ? " has-problems" : ""}`,
            "aria-selected": String(selected),
            "aria-controls": `editor-${i}`,
            tabindex: selected ? "0" : "-1",
            onclick: () => this.activate(i),
            onkeydown: (e: KeyboardEvent) => this.keys(e),
          },
          deciding ? h("span", { class: `dot dot-${deciding}`, title: "Holds the deciding statement" }) : null,
          h("span", { class: "tab-name" }, names[i]),
          h("span", { class: "tab-kind" }, kindInfo(p.kind).short + (isOrganization(p.kind) ? ` L${p.level}` : "")),
          problems ? h("span", { class: "tab-problems", title: `${problems} problem${problems > 1 ? "s" : ""}` }, String(problems)) : null,
        );
      }),
    );
  }

  /** The arrow keys, Home and End move between tabs. */
  private keys(e: KeyboardEvent): void {
    const n = this.state.policies.length;
    const active = this.state.active;
    const to =
      e.key === "ArrowRight" ? (active + 1) % n
      : e.key === "ArrowLeft" ? (active - 1 + n) % n
      : e.key === "Home" ? 0
      : e.key === "End" ? n - 1
      : -1;
    if (to < 0) return;
    e.preventDefault();
    this.activate(to);
    document.getElementById(`tab-${to}`)?.focus();
  }

  private renderMeta(): void {
    const index = this.state.active;
    renderMeta(this.state.policies[index], this.editors[index], {
      edited: (roleChanged) => {
        this.render();
        if (roleChanged) this.renderMeta();
        this.session.changed();
      },
      remove: () => this.remove(this.state.active),
    });
  }

  private rebuild(): void {
    this.editors.forEach((e) => e.destroy());
    this.editors = this.state.policies.map((p, index) => {
      const editor = new PolicyEditor(byId("editors"), p.text, p.name, (text) => {
        p.text = text;
        this.session.changed();
      });
      editor.element.id = `editor-${index}`;
      editor.element.setAttribute("role", "tabpanel");
      editor.element.setAttribute("aria-labelledby", `tab-${index}`);
      return editor;
    });
  }

  private add(): void {
    const used = new Set(this.state.policies.map((p) => p.name));
    let n = this.state.policies.length + 1;
    while (used.has(`policy-${n}`)) n++;
    this.state.policies.push({ name: `policy-${n}`, kind: "identity-inline", level: 0, text: formatJson(TEMPLATE) + "\n" });
    this.rebuild();
    this.activate(this.state.policies.length - 1);
    this.session.changed();
    this.editors[this.state.active]?.view.focus();
  }

  private remove(index: number): void {
    if (!this.state.policies[index]) return;
    this.state.policies.splice(index, 1);
    this.rebuild();
    this.activate(Math.min(index, this.state.policies.length - 1));
    this.session.changed();
    document.getElementById(`tab-${this.state.active}`)?.focus();
  }
}
