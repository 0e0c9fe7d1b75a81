// The Risks panel: paste an account export (`aws iam get-account-authorization-details`, or
// `iamlet iam export`) and see who can become an administrator, and how — the escalation paths of
// `iamlet report escalation`, computed in the page by the engine's WebAssembly build.
import { escalationPaths, type EscalationFinding, type EscalationStep } from "@iamlet/engine";
import { byId, h, ticks } from "./dom";

/** The short name of a user or role ARN (`user/alice`). */
const short = (arn: string) => arn.split(":").slice(5).join(":") || arn;

function step(s: EscalationStep, n: number): HTMLElement {
  return h(
    "li",
    { class: "risk-step", "data-testid": "risk-step" },
    h("span", { class: "risk-n" }, `${n}.`),
    h("div", {},
      h("div", {}, h("strong", {}, short(s.principal)), " → ", h("code", {}, s.action), " on ", h("code", { title: s.resource }, s.resource)),
      h("div", { class: "hint" }, "allowed by ", ticks(s.statement)),
      h("div", {}, "gains ", s.gains),
      ...(s.if ?? []).map((c) => h("div", { class: "risk-if" }, "if ", h("code", {}, c))),
    ),
  );
}

function finding(f: EscalationFinding): HTMLElement {
  return h(
    "article",
    { class: "risk", "data-principal": f.principal },
    h("h3", {}, h("span", { class: "badge small badge-explicitdeny" }, "can escalate"), " ", short(f.principal)),
    ...f.paths.map((path, i) =>
      h("section", { class: "risk-path" },
        h("p", { class: "hint" }, `Path ${i + 1}: ${path.length} step${path.length === 1 ? "" : "s"}`),
        h("ol", {}, ...path.map((s, j) => step(s, j + 1))),
      ),
    ),
  );
}

export class RisksPanel {
  private readonly dialog = byId<HTMLDialogElement>("risks");
  private readonly input = byId<HTMLTextAreaElement>("risks-input");
  private readonly out = byId("risks-result");

  constructor() {
    byId("risks-button").addEventListener("click", () => {
      this.dialog.showModal();
      this.input.focus();
    });
    byId("risks-analyze").addEventListener("click", () => this.analyze());
    this.dialog.addEventListener("click", (e) => {
      if (e.target === this.dialog) this.dialog.close();
    });
  }

  /** Runs the analysis over the pasted export and shows the findings (or the export's problem). */
  analyze(): void {
    const text = this.input.value.trim();
    if (!text) {
      this.out.replaceChildren(h("p", { class: "hint" }, "Paste an account export first."));
      return;
    }
    let findings: EscalationFinding[];
    try {
      findings = escalationPaths(text);
    } catch (e) {
      this.out.replaceChildren(h("p", { class: "problem", role: "alert", "data-testid": "risks-error" }, ticks(e instanceof Error ? e.message : String(e))));
      return;
    }
    const already = findings.filter((f) => f.already);
    const escalating = findings.filter((f) => !f.already);
    this.out.replaceChildren(
      h("p", { "data-testid": "risks-summary", role: "status" },
        escalating.length === 0
          ? "No principal can escalate to administrator."
          : `${escalating.length} principal${escalating.length === 1 ? "" : "s"} can escalate to administrator.`,
        already.length ? ` ${already.length} already ${already.length === 1 ? "is one" : "are"}.` : "",
      ),
      ...escalating.map(finding),
      ...(already.length
        ? [h("details", {}, h("summary", {}, "Already administrators"), h("ul", {}, ...already.map((f) => h("li", {}, h("code", {}, f.principal)))))]
        : []),
    );
  }
}
