// Evaluation, after every edit: each policy checked (its problems and lint findings, into its editor,
// its tab and the lists below), then the request decided and explained, the deciding statements
// highlighted, and every row of the batch decided.
import { PolicySet, lint, validate, type Finding, type PolicyInput, type PolicyProblem } from "@iamlet/engine";
import type { BatchTable, RowResult } from "./batch";
import type { Mark } from "./editor";
import { renderError, renderExplanation } from "./explain";
import { renderFindings, renderProblems } from "./findings";
import { statementRange } from "./jsonspan";
import { keysInPolicies } from "./keys";
import { buildRequest, type RequestForm } from "./request";
import type { Session } from "./session";
import type { PolicyTabs } from "./tabs";

/** What an evaluation reads and fills. */
export interface View {
  session: Session;
  tabs: PolicyTabs;
  form: RequestForm;
  batch: BatchTable;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export function evaluate(view: View): void {
  view.session.evaluating();
  const names = view.tabs.names();
  const inputs = view.tabs.inputs(names);
  const problems = check(view, inputs, names);
  const marks = decide(view, inputs, names, problems);
  view.tabs.setMarks(marks);
}

/** Every policy's problems (as `validate` reports them) and lint findings, shown; the problems. */
function check({ tabs, form }: View, inputs: PolicyInput[], names: string[]): PolicyProblem[][] {
  const problems = inputs.map((input): PolicyProblem[] => {
    try {
      return validate(input);
    } catch (e) {
      return [{ policy: input.name ?? "", path: "", message: errorText(e), display: errorText(e) }];
    }
  });
  // Lint findings beside the problems; a grammar error is both, and shown once, as a problem.
  const findings = inputs.map((input, i): Finding[] => {
    const reported = new Set(problems[i].map((p) => p.message));
    try {
      return lint(tabs.text(i), input.policyType).filter((f) => !reported.has(f.message));
    } catch {
      return [];
    }
  });
  tabs.setProblems(problems, findings);
  renderProblems(problems, (i, p) => tabs.revealProblem(i, p));
  renderFindings(findings, names, (i, f) => tabs.revealFinding(i, f));
  form.setSuggestions(keysInPolicies(inputs.map((i) => String(i.document))));
  return problems;
}

/** The decision and explanation of the request and of each batch row, shown; the deciding
 * statements of each policy. */
function decide({ session, tabs, form, batch }: View, inputs: PolicyInput[], names: string[], problems: PolicyProblem[][]): Mark[][] {
  const state = session.state;
  const marks: Mark[][] = state.policies.map(() => []);
  let set: PolicySet;
  try {
    set = new PolicySet(inputs);
  } catch (e) {
    const count = problems.flat().length;
    renderError("the policies do not parse", [
      count
        ? `No decision: ${count === 1 ? "a policy has a problem" : `the policies have ${count} problems`}. Fix ${count === 1 ? "it" : "them"} to evaluate.`
        : `No decision: ${errorText(e)}`,
      ...problems.flat().map((p) => `${p.policy}: ${p.display}`),
    ]);
    form.setError(null);
    batch.setResults(state.batch.map(() => null));
    return marks;
  }
  try {
    try {
      const explanation = set.explain(buildRequest(state.request));
      renderExplanation(explanation, (ref) => tabs.revealStatement(ref));
      form.setError(null);
      for (const ref of explanation.deciding) {
        const i = names.indexOf(ref.policy);
        const range = i >= 0 ? statementRange(tabs.text(i), ref.statement) : null;
        if (range) marks[i].push({ ...range, effect: ref.effect });
      }
    } catch (e) {
      renderError("the request is not valid", [`No decision: the request is not valid: ${errorText(e)}.`]);
      form.setError(errorText(e));
    }
    batch.setResults(
      state.batch.map((row): RowResult => {
        try {
          const e = set.explain(buildRequest(state.request, row.action, row.resource));
          return { decision: e.decision, summary: e.summary };
        } catch (err) {
          return { error: errorText(err) };
        }
      }),
    );
  } finally {
    set.free();
  }
  return marks;
}
