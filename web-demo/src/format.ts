// Pretty-prints JSON the way people write IAM policies: one key per line, short arrays and objects
// (a condition block, a list of actions) kept on one line.

const WIDTH = 80;

/** `value` on one line, with a space after each comma and colon. */
function inline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${inline(v)}`).join(", ")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** `value` as text starting at `indent`, after `lead` characters (its key) on the same line. */
export function formatJson(value: unknown, indent = "", lead = 0): string {
  if (value === null || typeof value !== "object") return inline(value);
  const inner = indent + "  ";
  const spaced = inline(value);
  const short = indent.length + lead + spaced.length + 1 <= WIDTH;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (short && value.every((v) => v === null || typeof v !== "object")) return spaced;
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return "{}";
  // Objects below the statement level (conditions, principals) stay on one line when short.
  if (short && indent.length >= 6) return spaced;
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner, JSON.stringify(k).length + 2)}`).join(",\n")}\n${indent}}`;
}
