// The lists under the editors: every policy's problems (it does not parse) and its lint findings (as
// `iamlet lint` reports them), each a link to its element in the editor.
import type { Finding, PolicyProblem } from "@iamlet/engine";
import { byId, h } from "./dom";
import { findingText } from "./editor";

const SEVERITY_LABEL: Record<Finding["severity"], string> = {
  error: "error",
  security_warning: "security warning",
  warning: "warning",
  suggestion: "suggestion",
};

/** Fills `#id` with a heading counting `items` (as `noun`s) and one list item each; empty when none. */
function renderList<T>(id: string, noun: string, items: T[], item: (x: T) => HTMLElement): void {
  byId(id).replaceChildren(
    ...(items.length === 0 ? [] : [h("h3", {}, `${items.length} ${noun}${items.length > 1 ? "s" : ""}`), h("ul", {}, items.map(item))]),
  );
}

/** Each policy's problems (`problems[i]` for policy `i`); `reveal` shows one in its editor. */
export function renderProblems(problems: PolicyProblem[][], reveal: (policy: number, p: PolicyProblem) => void): void {
  const list = problems.flatMap((ps, i) => ps.map((p) => ({ i, p })));
  renderList("problems", "problem", list, ({ i, p }) =>
    h(
      "li",
      {},
      h("button", { type: "button", class: "link problem", onclick: () => reveal(i, p) }, h("span", { class: "problem-policy" }, p.policy), " ", p.display),
    ),
  );
}

/** Each policy's findings, under the policies' `names`; `reveal` shows one in its editor. */
export function renderFindings(findings: Finding[][], names: string[], reveal: (policy: number, f: Finding) => void): void {
  const list = findings.flatMap((fs, i) => fs.map((f) => ({ i, f })));
  renderList("findings", "finding", list, ({ i, f }) =>
    h(
      "li",
      { class: `finding finding-${f.severity}`, "data-code": f.code },
      h(
        "button",
        { type: "button", class: "link", onclick: () => reveal(i, f) },
        h("span", { class: "problem-policy" }, names[i]),
        " ",
        h("span", { class: "finding-severity" }, SEVERITY_LABEL[f.severity]),
        ` [${f.code}] `,
        findingText(f),
      ),
    ),
  );
}
