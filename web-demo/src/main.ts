// The playground: policy tabs with editors, the request form, the decision and its explanation, and
// the table of many requests, all evaluated in the page by the engine's WebAssembly build.
import "./style.css";
import {
  PolicySet,
  lint,
  validate,
  version,
  type Finding,
  type PolicyInput,
  type PolicyProblem,
  type StatementRef,
} from "@iamlet/engine";
import { BatchTable, type RowResult } from "./batch";
import { byId, h } from "./dom";
import { findingRange, findingText, problemRange, PolicyEditor, type Mark } from "./editor";
import { DEFAULT_EXAMPLE, EXAMPLES, exampleState } from "./examples";
import { renderError, renderExplanation } from "./explain";
import { formatJson } from "./format";
import { statementRange } from "./jsonspan";
import { keysInPolicies } from "./keys";
import { buildRequest, RequestForm } from "./request";
import { decodeFragment, encodeFragment } from "./share";
import { KINDS, kindInfo, loadLocal, saveLocal, type BatchRow, type PolicyKind, type State } from "./state";

const EVALUATE_DELAY_MS = 150;
const SAVE_DELAY_MS = 400;

let state!: State;
let editors: PolicyEditor[] = [];
/** Per tab: how many problems, and whether it holds a deciding statement. */
let tabProblems: number[] = [];
let tabDeciding: ("allow" | "deny" | null)[] = [];
/** The fragment this page last wrote, so our own writes are not taken for a pasted link. */
let ownFragment = "";

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// ===== scheduling =====

let evaluateTimer: number | undefined;
let saveTimer: number | undefined;

function changed(): void {
  clearTimeout(evaluateTimer);
  evaluateTimer = window.setTimeout(evaluate, EVALUATE_DELAY_MS);
  clearTimeout(saveTimer);
  saveTimer = window.setTimeout(() => void save(), SAVE_DELAY_MS);
}

let saveSeq = 0;
/** Writes the state to localStorage and to the URL fragment (without a history entry). */
async function save(): Promise<string> {
  clearTimeout(saveTimer);
  saveLocal(state);
  const seq = ++saveSeq;
  const fragment = await encodeFragment(state);
  if (seq === saveSeq) {
    ownFragment = fragment;
    history.replaceState(history.state, "", fragment);
  }
  return fragment;
}

// ===== policies: tabs, editors, metadata =====

function uniqueNames(): string[] {
  const seen = new Map<string, number>();
  return state.policies.map((p) => {
    const base = p.name.trim() || "policy";
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base} (${n})`;
  });
}

function renderTabs(): void {
  const tablist = byId("tabs");
  const names = uniqueNames();
  tablist.replaceChildren(
    ...state.policies.map((p, i) => {
      const selected = i === state.active;
      const problems = tabProblems[i] ?? 0;
      const deciding = tabDeciding[i];
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
          onclick: () => activate(i),
          onkeydown: tabKeys,
        },
        deciding ? h("span", { class: `dot dot-${deciding}`, title: "Holds the deciding statement" }) : null,
        h("span", { class: "tab-name" }, names[i]),
        h("span", { class: "tab-kind" }, kindInfo(p.kind).short + (p.kind === "scp" || p.kind === "rcp" ? ` L${p.level}` : "")),
        problems ? h("span", { class: "tab-problems", title: `${problems} problem${problems > 1 ? "s" : ""}` }, String(problems)) : null,
      );
    }),
  );
}

function tabKeys(e: KeyboardEvent): void {
  const n = state.policies.length;
  const to =
    e.key === "ArrowRight" ? (state.active + 1) % n
    : e.key === "ArrowLeft" ? (state.active - 1 + n) % n
    : e.key === "Home" ? 0
    : e.key === "End" ? n - 1
    : -1;
  if (to < 0) return;
  e.preventDefault();
  activate(to);
  document.getElementById(`tab-${to}`)?.focus();
}

function activate(index: number): void {
  state.active = Math.max(0, Math.min(index, state.policies.length - 1));
  editors.forEach((ed, i) => {
    ed.element.hidden = i !== state.active;
    if (i === state.active) ed.refresh();
  });
  renderTabs();
  renderMeta();
  changedQuietly();
}

/** A change that needs saving but not evaluating (the active tab). */
function changedQuietly(): void {
  clearTimeout(saveTimer);
  saveTimer = window.setTimeout(() => void save(), SAVE_DELAY_MS);
}

function renderMeta(): void {
  const meta = byId("policy-meta");
  const p = state.policies[state.active];
  if (!p) {
    meta.replaceChildren(h("p", { class: "hint" }, "No policies: everything is implicitly denied. Add one with + Policy."));
    return;
  }
  const editor = editors[state.active];
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
          renderTabs();
          changed();
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
            renderTabs();
            renderMeta();
            changed();
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
              renderTabs();
              changed();
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
    h(
      "button",
      {
        type: "button",
        class: "ghost small danger",
        title: "Remove this policy",
        onclick: () => removePolicy(state.active),
      },
      "Remove",
    ),
  ];
  meta.replaceChildren(...fields.filter((f): f is HTMLElement => f !== null));
}

function makeEditor(index: number): PolicyEditor {
  const p = state.policies[index];
  const editor = new PolicyEditor(byId("editors"), p.text, p.name, (text) => {
    p.text = text;
    changed();
  });
  editor.element.id = `editor-${index}`;
  editor.element.setAttribute("role", "tabpanel");
  editor.element.setAttribute("aria-labelledby", `tab-${index}`);
  return editor;
}

function rebuildEditors(): void {
  editors.forEach((e) => e.destroy());
  editors = state.policies.map((_, i) => makeEditor(i));
}

const TEMPLATE = {
  Version: "2012-10-17",
  Statement: [{ Sid: "NewStatement", Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
};

function addPolicy(): void {
  const used = new Set(state.policies.map((p) => p.name));
  let n = state.policies.length + 1;
  while (used.has(`policy-${n}`)) n++;
  state.policies.push({ name: `policy-${n}`, kind: "identity-inline", level: 0, text: formatJson(TEMPLATE) + "\n" });
  rebuildEditors();
  activate(state.policies.length - 1);
  changed();
  editors[state.active]?.view.focus();
}

function removePolicy(index: number): void {
  if (!state.policies[index]) return;
  state.policies.splice(index, 1);
  rebuildEditors();
  activate(Math.min(index, state.policies.length - 1));
  changed();
  document.getElementById(`tab-${state.active}`)?.focus();
}

// ===== evaluation =====

function policyInputs(names: string[]): PolicyInput[] {
  return state.policies.map((p, i) => {
    const input: PolicyInput = { policyType: kindInfo(p.kind).type, document: editors[i].text, name: names[i] };
    if (p.kind === "scp" || p.kind === "rcp") input.level = p.level;
    return input;
  });
}

function revealStatement(ref: StatementRef): void {
  const index = uniqueNames().indexOf(ref.policy);
  if (index < 0) return;
  activate(index);
  const range = statementRange(editors[index].text, ref.statement);
  editors[index].reveal(range?.from ?? 0);
}

function revealProblem(index: number, problem: PolicyProblem): void {
  activate(index);
  const range = problemRange(editors[index].text, problem);
  editors[index].reveal(range.from, range.to);
}

function revealFinding(index: number, finding: Finding): void {
  activate(index);
  const range = findingRange(editors[index].text, finding);
  editors[index].reveal(range.from, range.to);
}

const SEVERITY_LABEL: Record<Finding["severity"], string> = {
  error: "error",
  security_warning: "security warning",
  warning: "warning",
  suggestion: "suggestion",
};

/** Lint findings of every policy (as `iamlet lint` reports them), each a link to its element. */
function renderFindings(findings: Finding[][]): void {
  const names = uniqueNames();
  const list = findings.flatMap((fs, i) => fs.map((f) => ({ i, f })));
  byId("findings").replaceChildren(
    ...(list.length === 0
      ? []
      : [
          h("h3", {}, `${list.length} finding${list.length > 1 ? "s" : ""}`),
          h(
            "ul",
            {},
            list.map(({ i, f }) =>
              h(
                "li",
                { class: `finding finding-${f.severity}`, "data-code": f.code },
                h(
                  "button",
                  { type: "button", class: "link", onclick: () => revealFinding(i, f) },
                  h("span", { class: "problem-policy" }, names[i]),
                  " ",
                  h("span", { class: "finding-severity" }, SEVERITY_LABEL[f.severity]),
                  ` [${f.code}] `,
                  findingText(f),
                ),
              ),
            ),
          ),
        ]),
  );
}

function renderProblems(problems: PolicyProblem[][]): void {
  const list = problems.flatMap((ps, i) => ps.map((p) => ({ i, p })));
  byId("problems").replaceChildren(
    ...(list.length === 0
      ? []
      : [
          h("h3", {}, `${list.length} problem${list.length > 1 ? "s" : ""}`),
          h(
            "ul",
            {},
            list.map(({ i, p }) =>
              h(
                "li",
                {},
                h(
                  "button",
                  { type: "button", class: "link problem", onclick: () => revealProblem(i, p) },
                  h("span", { class: "problem-policy" }, p.policy),
                  " ",
                  p.display,
                ),
              ),
            ),
          ),
        ]),
  );
}

function evaluate(): void {
  clearTimeout(evaluateTimer);
  const names = uniqueNames();
  const inputs = policyInputs(names);
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
      return lint(editors[i].text, input.policyType).filter((f) => !reported.has(f.message));
    } catch {
      return [];
    }
  });
  problems.forEach((list, i) => editors[i].setProblems(list, findings[i]));
  tabProblems = problems.map((l) => l.length);
  renderProblems(problems);
  renderFindings(findings);
  requestForm.setSuggestions(keysInPolicies(inputs.map((i) => String(i.document))));

  const marks: Mark[][] = state.policies.map(() => []);
  let set: PolicySet | null = null;
  try {
    set = new PolicySet(inputs);
  } catch (e) {
    const count = problems.flat().length;
    renderError("Error", [
      count
        ? `No decision: ${count === 1 ? "a policy has a problem" : `the policies have ${count} problems`}. Fix ${count === 1 ? "it" : "them"} to evaluate.`
        : `No decision: ${errorText(e)}`,
      ...problems.flat().map((p) => `${p.policy}: ${p.display}`),
    ]);
    byId("decision-words").textContent = "the policies do not parse";
    requestForm.setError(null);
    batch.setResults(state.batch.map(() => null));
  }
  if (set) {
    try {
      try {
        const explanation = set.explain(buildRequest(state.request));
        renderExplanation(explanation, revealStatement);
        requestForm.setError(null);
        for (const ref of explanation.deciding) {
          const i = names.indexOf(ref.policy);
          const range = i >= 0 ? statementRange(editors[i].text, ref.statement) : null;
          if (range) marks[i].push({ ...range, effect: ref.effect });
        }
      } catch (e) {
        renderError("Error", [`No decision: the request is not valid: ${errorText(e)}.`]);
        byId("decision-words").textContent = "the request is not valid";
        requestForm.setError(errorText(e));
      }
      batch.setResults(
        state.batch.map((row): RowResult => {
          try {
            const e = set!.explain(buildRequest(state.request, row.action, row.resource));
            return { decision: e.decision, summary: e.summary };
          } catch (err) {
            return { error: errorText(err) };
          }
        }),
      );
    } finally {
      set.free();
    }
  }
  marks.forEach((m, i) => editors[i].setMarks(m));
  tabDeciding = marks.map((m) => (m.length === 0 ? null : m.some((x) => x.effect === "Deny") ? "deny" : "allow"));
  renderTabs();
}

// ===== request, batch =====

const requestForm = new RequestForm(byId("request-form"), changed);

function explainRow(row: BatchRow): void {
  state.request.action = row.action;
  state.request.resource = row.resource;
  requestForm.render(state.request);
  evaluate();
  changedQuietly();
  byId("result-heading").scrollIntoView({ block: "nearest", behavior: "smooth" });
}

const batch = new BatchTable(byId("batch"), changed, explainRow, () => ({
  action: state.request.action,
  resource: state.request.resource,
}));

// ===== loading a state; the example gallery =====

function load(next: State): void {
  state = next;
  tabProblems = [];
  tabDeciding = [];
  rebuildEditors();
  requestForm.render(state.request);
  batch.render(state.batch);
  const example = EXAMPLES.find((e) => e.id === state.example);
  byId("example-blurb").replaceChildren(...(example ? [h("strong", {}, example.title), ". ", example.blurb] : []));
  activate(state.active);
  evaluate();
}

function renderGallery(): void {
  const dialog = byId<HTMLDialogElement>("gallery");
  byId("gallery-list").replaceChildren(
    ...EXAMPLES.map((ex) =>
      h(
        "button",
        {
          type: "button",
          class: "card",
          "data-example": ex.id,
          onclick: async () => {
            dialog.close();
            load(exampleState(ex));
            const fragment = await encodeFragment(state);
            ownFragment = fragment;
            // A history entry per example, so Back returns to what was there before.
            history.pushState(null, "", fragment);
            saveLocal(state);
          },
        },
        h("span", { class: "card-title" }, ex.title),
        h("span", { class: "card-blurb" }, ex.blurb),
        h("span", { class: `badge small badge-${ex.expect.toLowerCase()}` }, ex.expect),
      ),
    ),
  );
  byId("examples-button").addEventListener("click", () => {
    dialog.showModal();
    dialog.querySelector<HTMLElement>(`[data-example="${state.example}"]`)?.focus();
  });
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) dialog.close();
  });
}

// ===== sharing =====

function setUpShare(): void {
  const popover = byId("share-popover");
  const input = byId<HTMLInputElement>("share-url");
  const status = byId("share-status");
  const button = byId("share-button");
  button.addEventListener("click", async () => {
    await save();
    input.value = location.href;
    popover.hidden = false;
    input.focus();
    input.select();
    try {
      await navigator.clipboard.writeText(location.href);
      status.textContent = "Link copied. It holds the policies and the request; nothing is uploaded.";
    } catch {
      status.textContent = "Copy the link above. It holds the policies and the request; nothing is uploaded.";
    }
  });
  const close = () => {
    popover.hidden = true;
  };
  popover.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      close();
      button.focus();
    }
  });
  document.addEventListener("pointerdown", (e) => {
    if (!popover.hidden && !popover.contains(e.target as Node) && e.target !== button) close();
  });
}

// ===== start =====

byId("add-policy").addEventListener("click", addPolicy);
byId("engine-version").textContent = `iamlet-engine ${version()}`;
renderGallery();
setUpShare();

// A reload or a closed tab within the save delay still keeps the last edit.
window.addEventListener("pagehide", () => {
  if (state) saveLocal(state);
});

window.addEventListener("hashchange", async () => {
  if (location.hash === ownFragment) return;
  const next = await decodeFragment(location.hash);
  if (next) {
    ownFragment = location.hash;
    load(next);
    saveLocal(state);
  }
});

const fromLink = await decodeFragment(location.hash);
load(fromLink ?? loadLocal() ?? exampleState(DEFAULT_EXAMPLE));
if (fromLink) {
  ownFragment = location.hash;
  saveLocal(state);
} else {
  void save();
}
document.documentElement.dataset.ready = "true";

if (import.meta.env.PROD && "serviceWorker" in navigator) {
  navigator.serviceWorker.register("./sw.js").catch(() => {
    // Offline use is a convenience: the page works online without it.
  });
}
