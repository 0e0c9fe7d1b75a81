// Completion of action names from the engine's catalog: inside a string of an "Action" or
// "NotAction" value, `s3:GetO` offers `s3:GetObject`, `s3:GetObjectAcl`… with their access levels.
import { expandActions, type AccessLevel } from "@iamlet/engine";
import type { Completion, CompletionContext, CompletionResult } from "@codemirror/autocomplete";
import { syntaxTree } from "@codemirror/language";
import type { SyntaxNode } from "@lezer/common";

const LEVEL: Record<AccessLevel, string> = {
  list: "List",
  read: "Read",
  write: "Write",
  permissions_management: "Permissions management",
  tagging: "Tagging",
};

/** The property a string value belongs to (directly, or as an array element), if any. */
function propertyName(node: SyntaxNode, text: (from: number, to: number) => string): string | null {
  let parent = node.parent;
  if (parent?.name === "Array") parent = parent.parent;
  if (parent?.name !== "Property") return null;
  const name = parent.getChild("PropertyName");
  return name ? text(name.from, name.to).replace(/^"|"$/g, "") : null;
}

/** At most this many actions are offered: a prefix such as `ec2:` matches hundreds. */
const LIMIT = 300;

export function actionCompletions(context: CompletionContext): CompletionResult | null {
  const node = syntaxTree(context.state).resolveInner(context.pos, -1);
  if (node.name !== "String") return null;
  const text = (from: number, to: number) => context.state.sliceDoc(from, to);
  const property = propertyName(node, text);
  if (property !== "Action" && property !== "NotAction") return null;
  const from = node.from + 1;
  const typed = text(from, context.pos);
  // Only once a service prefix is typed (`s3:`), or when asked explicitly with a few letters.
  if (!typed.includes(":") && !(context.explicit && typed.length >= 2)) return null;
  if (/[*?"]/.test(typed)) return null;
  const pattern = typed.includes(":") ? `${typed}*` : `${typed}*:*`;
  const options: Completion[] = expandActions(pattern)
    .slice(0, LIMIT)
    .map((a) => ({ label: a.action, detail: LEVEL[a.level] }));
  return options.length ? { from, options, validFor: /^[\w:-]*$/ } : null;
}
