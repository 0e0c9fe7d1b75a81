// The example gallery: scenarios from real IAM practice, most of them adapted from AWS's own policy
// examples. They are data, in examples.json; this module reads them (checking each, so a mistake in
// the file fails the first page load and the tests) and turns one into the playground's state.
// `expect` is the decision of the example's request; the end-to-end tests check every one.
import type { Decision } from "@iamlet/engine";
import data from "./examples.json";
import { formatJson } from "./format";
import { KINDS, type BatchRow, type ContextRow, type PolicyKind, type State, type TagRow } from "./state";

interface ExamplePolicy {
  name: string;
  kind: PolicyKind;
  /** For SCPs and RCPs: the organization level (0, the root, when absent). */
  level: number;
  /** The policy document, formatted into the editor when the example is opened. */
  doc: unknown;
}

export interface Example {
  id: string;
  title: string;
  /** One sentence: what it shows and what to try. */
  blurb: string;
  expect: Decision;
  policies: ExamplePolicy[];
  principal: string;
  action: string;
  resource: string;
  resourceAccount: string;
  principalTags: TagRow[];
  context: ContextRow[];
  batch: BatchRow[];
}

const DECISIONS: readonly Decision[] = ["Allow", "ExplicitDeny", "ImplicitDeny"];

type Fields = Record<string, unknown>;

/** The object at `where`, holding no key but `keys` (any keys when not given). */
function fields(value: unknown, where: string, keys?: string[]): Fields {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`examples.json: ${where} is not an object`);
  const extra = keys ? Object.keys(value).filter((k) => !keys.includes(k)) : [];
  if (extra.length) throw new Error(`examples.json: ${where} has unknown keys: ${extra.join(", ")}`);
  return value as Fields;
}

function text(o: Fields, key: string, where: string, fallback?: string): string {
  const v = o[key] ?? fallback;
  if (typeof v !== "string") throw new Error(`examples.json: ${where}.${key} is not a string`);
  return v;
}

function oneOf<T extends string>(o: Fields, key: string, allowed: readonly T[], where: string): T {
  const v = text(o, key, where);
  if (!(allowed as readonly string[]).includes(v)) throw new Error(`examples.json: ${where}.${key} is not one of ${allowed.join(", ")}`);
  return v as T;
}

/** The array at `o[key]` (empty when absent), each item read by `item`. */
function list<T>(o: Fields, key: string, where: string, item: (v: unknown, where: string) => T): T[] {
  const v = o[key] ?? [];
  if (!Array.isArray(v)) throw new Error(`examples.json: ${where}.${key} is not an array`);
  return v.map((x, i) => item(x, `${where}.${key}[${i}]`));
}

function policy(value: unknown, where: string): ExamplePolicy {
  const o = fields(value, where, ["name", "kind", "level", "doc"]);
  const level = o.level ?? 0;
  if (typeof level !== "number" || !Number.isInteger(level) || level < 0) throw new Error(`examples.json: ${where}.level is not a level`);
  const kinds = KINDS.map((k) => k.kind);
  return { name: text(o, "name", where), kind: oneOf(o, "kind", kinds, where), level, doc: fields(o.doc, `${where}.doc`) };
}

function example(value: unknown, where: string): Example {
  const keys = ["id", "title", "blurb", "expect", "policies", "principal", "action", "resource", "resourceAccount", "principalTags", "context", "batch"];
  const o = fields(value, where, keys);
  return {
    id: text(o, "id", where),
    title: text(o, "title", where),
    blurb: text(o, "blurb", where),
    expect: oneOf(o, "expect", DECISIONS, where),
    policies: list(o, "policies", where, policy),
    principal: text(o, "principal", where),
    action: text(o, "action", where),
    resource: text(o, "resource", where),
    resourceAccount: text(o, "resourceAccount", where, ""),
    principalTags: list(o, "principalTags", where, (v, at) => {
      const t = fields(v, at, ["key", "value"]);
      return { key: text(t, "key", at), value: text(t, "value", at) };
    }),
    context: list(o, "context", where, (v, at) => {
      const c = fields(v, at, ["key", "value", "multi"]);
      return { key: text(c, "key", at), value: text(c, "value", at), multi: c.multi === true };
    }),
    batch: list(o, "batch", where, (v, at) => {
      const b = fields(v, at, ["action", "resource"]);
      return { action: text(b, "action", at), resource: text(b, "resource", at) };
    }),
  };
}

export const EXAMPLES: Example[] = list({ examples: data as unknown }, "examples", "examples", example);

export const DEFAULT_EXAMPLE = EXAMPLES[0];

export function exampleState(example: Example): State {
  return {
    example: example.id,
    policies: example.policies.map((p) => ({
      name: p.name,
      kind: p.kind,
      level: p.level,
      text: formatJson(p.doc) + "\n",
    })),
    active: 0,
    request: {
      principal: example.principal,
      action: example.action,
      resource: example.resource,
      resourceAccount: example.resourceAccount,
      sessionIssuer: "",
      principalTags: example.principalTags.map((t) => ({ ...t })),
      context: example.context.map((c) => ({ ...c })),
    },
    batch: example.batch.map((b) => ({ ...b })),
  };
}
