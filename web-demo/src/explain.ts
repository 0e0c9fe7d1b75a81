// The decision badge and the explanation as a readable list: the deciding statements, the steps of
// AWS's evaluation flow, and every statement with why it did or did not apply.
import type { Decision, Explanation, Step, StatementRef } from "@iamlet/engine";
import { byId, h, ticks } from "./dom";

export const DECISION_WORDS: Record<Decision, string> = {
  Allow: "allowed",
  ExplicitDeny: "denied by a Deny statement",
  ImplicitDeny: "denied: nothing allows it",
};

const STEP_NAMES: Record<Step["step"], string> = {
  explicit_deny: "Explicit deny",
  rcp: "Resource control policies",
  scp: "Service control policies",
  resource_policy: "Resource-based policy",
  identity: "Identity-based policies",
  boundary: "Permissions boundary",
  session: "Session policies",
};

const OUTCOME_ICONS: Record<Step["outcome"], string> = { pass: "✓", allow: "✓", deny: "✗", not_applicable: "–" };

/** Sets the badge: a decision, or `Error` when there is none to show. */
export function showDecision(decision: Decision | "Error", words: string): void {
  const badge = byId("decision");
  badge.textContent = decision;
  badge.className = `badge badge-${decision.toLowerCase()}`;
  badge.dataset.decision = decision;
  byId("decision-words").textContent = words;
}

export function statementLabel(s: StatementRef): string {
  return s.sid ? `${s.sid}` : `Statement[${s.statement}]`;
}

/** Renders an explanation; `reveal` shows a statement in its editor. */
export function renderExplanation(e: Explanation, reveal: (s: StatementRef) => void): void {
  showDecision(e.decision, DECISION_WORDS[e.decision]);
  const summary = byId("summary");
  summary.replaceChildren(ticks(e.summary.charAt(0).toUpperCase() + e.summary.slice(1)));
  summary.hidden = false;

  const link = (s: StatementRef, text?: string) =>
    h(
      "button",
      { type: "button", class: "link", title: `Show in ${s.policy}${s.line ? `, line ${s.line}` : ""}`, onclick: () => reveal(s) },
      text ?? statementLabel(s),
    );

  // Nothing allowed: the Allow statements that matched the action but failed on something else are
  // usually what the user wants to look at.
  const near = e.statements
    .filter((s) => e.decision === "ImplicitDeny" && !s.applies && s.effect === "Allow" && s.reason?.kind !== "action_not_matched")
    .slice(0, 3);
  const misses =
    near.length === 0
      ? null
      : h(
          "div",
          { class: "deciding near" },
          h("p", { class: "hint" }, near.length === 1 ? "The nearest Allow did not apply:" : "The nearest Allows did not apply:"),
          h(
            "ul",
            {},
            near.map((s) =>
              h(
                "li",
                {},
                h("span", { class: "effect effect-allow" }, s.effect),
                " ",
                link(s),
                h("span", { class: "where" }, ` in ${s.policy}: `, ticks(s.message ?? "")),
              ),
            ),
          ),
        );

  const deciding =
    e.deciding.length === 0
      ? misses
      : h(
          "div",
          { class: "deciding" },
          h(
            "ul",
            {},
            e.deciding.map((s) =>
              h(
                "li",
                { class: `effect-${s.effect.toLowerCase()}` },
                h("span", { class: `effect effect-${s.effect.toLowerCase()}` }, s.effect),
                " ",
                link(s),
                h("span", { class: "where" }, ` in ${s.policy}${s.line ? `, line ${s.line}` : ""}`),
              ),
            ),
          ),
        );

  const steps = h(
    "div",
    { class: "steps" },
    h("h3", { class: "first" }, "Evaluation steps"),
    h(
      "ol",
      {},
      e.steps.map((s) =>
        h(
          "li",
          { class: `outcome-${s.outcome}` },
          h("span", { class: "icon", "aria-hidden": "true" }, OUTCOME_ICONS[s.outcome]),
          h("span", { class: "step-name" }, STEP_NAMES[s.step] ?? s.step, s.level !== undefined && s.level !== null ? ` (level ${s.level})` : ""),
          h("span", { class: "step-detail" }, ticks(s.detail)),
        ),
      ),
    ),
  );

  const byPolicy = new Map<string, typeof e.statements>();
  for (const s of e.statements) byPolicy.set(s.policy, [...(byPolicy.get(s.policy) ?? []), s]);
  const statements = h(
    "details",
    { class: "statements", open: e.statements.length <= 8 },
    h("summary", {}, h("h3", {}, `All statements (${e.statements.length})`)),
    [...byPolicy].map(([policy, list]) =>
      h(
        "div",
        { class: "statement-group" },
        h("h4", {}, policy),
        h(
          "ul",
          {},
          list.map((s) =>
            h(
              "li",
              { class: s.applies ? `applies effect-${s.effect.toLowerCase()}` : "skipped" },
              h("span", { class: "icon", "aria-hidden": "true" }, s.applies ? "●" : "○"),
              h("span", { class: `effect effect-${s.effect.toLowerCase()}` }, s.effect),
              " ",
              link(s),
              h("span", { class: "reason" }, s.applies ? "applies to the request" : ticks(s.message ?? "does not apply")),
            ),
          ),
        ),
      ),
    ),
  );
  byId("deciding").replaceChildren(...(deciding ? [deciding] : []));
  byId("explanation").replaceChildren(steps, statements);
}

/** Shows that there is no decision (`words` says why: the policies have problems, or the request is
 * malformed), `lines[0]` as the summary and the rest as a list. */
export function renderError(words: string, lines: string[]): void {
  showDecision("Error", words);
  byId("summary").replaceChildren(ticks(lines[0] ?? ""));
  byId("explanation").replaceChildren(h("p", { class: "hint" }, "No explanation without a decision."));
  byId("deciding").replaceChildren(
    lines.length > 1 ? h("ul", { class: "error-list" }, lines.slice(1).map((l) => h("li", {}, ticks(l)))) : "",
  );
}
