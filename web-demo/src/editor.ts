// One policy's editor: CodeMirror 6 with JSON highlighting, action names completed from the engine's
// catalog, the engine's problems and lint findings as diagnostics, and the deciding statement's lines
// highlighted.
import type { Finding, PolicyProblem } from "@iamlet/engine";
import { basicSetup } from "codemirror";
import { json, jsonLanguage } from "@codemirror/lang-json";
import { syntaxHighlighting } from "@codemirror/language";
import { lintGutter, setDiagnostics, type Diagnostic } from "@codemirror/lint";
import { Compartment, EditorSelection, RangeSetBuilder, StateEffect, StateField } from "@codemirror/state";
import { Decoration, EditorView, ViewPlugin, type DecorationSet, type ViewUpdate } from "@codemirror/view";
import { classHighlighter } from "@lezer/highlight";
import { actionCompletions } from "./complete";
import { byteToIndex, lineColumnToIndex } from "./jsonspan";

/** A statement to highlight: its range in the text and its effect. */
export interface Mark {
  from: number;
  to: number;
  effect: "Allow" | "Deny";
}

const setMarks = StateEffect.define<Mark[]>();

const marks = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(value, tr) {
    for (const e of tr.effects) {
      if (e.is(setMarks)) {
        const builder = new RangeSetBuilder<Decoration>();
        const doc = tr.state.doc;
        for (const m of [...e.value].sort((a, b) => a.from - b.from)) {
          if (m.to > doc.length) continue;
          const first = doc.lineAt(m.from).number;
          const last = doc.lineAt(m.to).number;
          for (let n = first; n <= last; n++) {
            const edge = n === first ? " cm-deciding-first" : n === last ? " cm-deciding-last" : "";
            const cls = `cm-deciding cm-deciding-${m.effect.toLowerCase()}${edge}`;
            builder.add(doc.line(n).from, doc.line(n).from, Decoration.line({ class: cls }));
          }
        }
        return builder.finish();
      }
    }
    return value.map(tr.changes);
  },
  provide: (f) => EditorView.decorations.from(f),
});

/** Wrapped lines continue at their own indentation rather than at the left edge. */
const hangingIndent = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = this.build(view);
    }
    update(u: ViewUpdate) {
      if (u.docChanged || u.viewportChanged) this.decorations = this.build(u.view);
    }
    build(view: EditorView): DecorationSet {
      const builder = new RangeSetBuilder<Decoration>();
      for (const { from, to } of view.visibleRanges) {
        for (let pos = from; pos <= to; ) {
          const line = view.state.doc.lineAt(pos);
          const indent = /^ */.exec(line.text)?.[0].length ?? 0;
          if (indent > 0) {
            const style = `padding-left: calc(${indent + 2}ch + 6px); text-indent: -${indent + 2}ch`;
            builder.add(line.from, line.from, Decoration.line({ attributes: { style } }));
          }
          pos = line.to + 1;
        }
      }
      return builder.finish();
    }
  },
  { decorations: (v) => v.decorations },
);

/** The editor range of a problem, from its byte offsets (preferred) or its line and column. */
export function problemRange(text: string, p: PolicyProblem): { from: number; to: number } {
  let from: number;
  let to: number;
  if (p.start !== undefined && p.start !== null) {
    from = byteToIndex(text, p.start);
    to = byteToIndex(text, p.end ?? p.start);
  } else if (p.line) {
    from = lineColumnToIndex(text, p.line, p.column ?? 1);
    to = from;
  } else {
    from = 0;
    to = Math.min(text.length, text.indexOf("\n") < 0 ? text.length : text.indexOf("\n"));
  }
  // A zero-width problem (at the end of the text, say) still gets one character to underline.
  if (to <= from) {
    if (from < text.length && text[from] !== "\n") to = from + 1;
    else if (from > 0) from = from - 1;
  }
  return { from: Math.max(0, Math.min(from, text.length)), to: Math.max(0, Math.min(to, text.length)) };
}

/** The editor range of a lint finding: its element, or the first line for the whole document. */
export function findingRange(text: string, f: Finding): { from: number; to: number } {
  const loc = f.location;
  return problemRange(text, {
    policy: "",
    path: f.path,
    message: f.message,
    display: f.message,
    start: loc?.start,
    end: loc?.end,
  });
}

/** A finding as one sentence, with its fix. */
export function findingText(f: Finding): string {
  const where = f.path ? `${f.path}: ` : "";
  return `${where}${f.message}${f.fix ? ` (fix: ${f.fix})` : ""}`;
}

export class PolicyEditor {
  readonly view: EditorView;
  readonly element: HTMLElement;
  private readonly label = new Compartment();

  constructor(parent: HTMLElement, text: string, name: string, onChange: (text: string) => void) {
    this.element = document.createElement("div");
    this.element.className = "editor";
    parent.append(this.element);
    this.view = new EditorView({
      parent: this.element,
      doc: text,
      // The cursor starts on line 2, not beside the outer brace (whose match would light up).
      selection: { anchor: text.indexOf("\n") + 1 },
      extensions: [
        basicSetup,
        json(),
        jsonLanguage.data.of({ autocomplete: actionCompletions }),
        syntaxHighlighting(classHighlighter),
        lintGutter(),
        marks,
        EditorView.lineWrapping,
        hangingIndent,
        this.label.of(EditorView.contentAttributes.of({ "aria-label": `Policy ${name} (JSON)` })),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange(u.state.doc.toString());
        }),
      ],
    });
  }

  get text(): string {
    return this.view.state.doc.toString();
  }

  setText(text: string): void {
    this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: text } });
  }

  setName(name: string): void {
    this.view.dispatch({
      effects: this.label.reconfigure(EditorView.contentAttributes.of({ "aria-label": `Policy ${name} (JSON)` })),
    });
  }

  /** The engine's problems (the policy does not parse) and lint findings (it parses, but…). */
  setProblems(problems: PolicyProblem[], findings: Finding[] = []): void {
    const text = this.text;
    const diagnostics: Diagnostic[] = problems.map((p) => ({
      ...problemRange(text, p),
      severity: "error",
      source: "iamlet",
      message: p.display,
    }));
    for (const f of findings) {
      diagnostics.push({
        ...findingRange(text, f),
        severity: f.severity === "error" ? "error" : f.severity === "suggestion" ? "info" : "warning",
        source: `iamlet lint [${f.code}]`,
        message: findingText(f),
      });
    }
    this.view.dispatch(setDiagnostics(this.view.state, diagnostics));
  }

  setMarks(list: Mark[]): void {
    this.view.dispatch({ effects: setMarks.of(list) });
  }

  /** Selects a range, scrolls it into view and focuses the editor. */
  reveal(from: number, to = from): void {
    const length = this.view.state.doc.length;
    const range = EditorSelection.range(Math.min(from, length), Math.min(to, length));
    this.view.dispatch({ selection: range, effects: EditorView.scrollIntoView(range, { y: "center" }) });
    this.view.focus();
  }

  /** Call after the editor was shown again. */
  refresh(): void {
    this.view.requestMeasure();
  }

  destroy(): void {
    this.view.destroy();
    this.element.remove();
  }
}
