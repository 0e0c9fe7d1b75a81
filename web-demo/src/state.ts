// The playground's whole state: plain data, so it can be saved to localStorage and to the URL.
import type { PolicyType } from "@iamlet/engine";

/** A policy's role in the evaluation, as the tab's role picker offers it. */
export type PolicyKind =
  | "identity-inline"
  | "identity-managed"
  | "resource"
  | "trust"
  | "boundary"
  | "scp"
  | "rcp"
  | "session";

export const KINDS: { kind: PolicyKind; label: string; type: PolicyType; short: string }[] = [
  { kind: "identity-inline", label: "Identity (inline)", type: "identity", short: "inline" },
  { kind: "identity-managed", label: "Identity (managed)", type: "identity", short: "managed" },
  { kind: "resource", label: "Resource-based", type: "resource", short: "resource" },
  { kind: "trust", label: "Role trust policy", type: "trust", short: "trust" },
  { kind: "boundary", label: "Permissions boundary", type: "boundary", short: "boundary" },
  { kind: "scp", label: "SCP", type: "scp", short: "SCP" },
  { kind: "rcp", label: "RCP", type: "rcp", short: "RCP" },
  { kind: "session", label: "Session policy", type: "session", short: "session" },
];

export function kindInfo(kind: PolicyKind) {
  return KINDS.find((k) => k.kind === kind) ?? KINDS[0];
}

export interface PolicyTab {
  name: string;
  kind: PolicyKind;
  /** For SCPs and RCPs: the organization level, 0 for the root. */
  level: number;
  text: string;
}

export interface TagRow {
  key: string;
  value: string;
}

export interface ContextRow {
  key: string;
  /** One value, or for a multivalued key the values separated by commas. */
  value: string;
  multi: boolean;
}

export interface RequestState {
  principal: string;
  action: string;
  resource: string;
  resourceAccount: string;
  sessionIssuer: string;
  principalTags: TagRow[];
  context: ContextRow[];
}

export interface BatchRow {
  action: string;
  resource: string;
}

export interface State {
  /** The example this state started from, if any. */
  example: string;
  policies: PolicyTab[];
  active: number;
  request: RequestState;
  batch: BatchRow[];
}

const STORAGE_KEY = "iamlet-playground/state/v1";

export function saveLocal(state: State): void {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(state));
  } catch {
    // Private mode or a full quota: the URL still holds the state.
  }
}

export function loadLocal(): State | null {
  try {
    const text = localStorage.getItem(STORAGE_KEY);
    return text ? coerceState(JSON.parse(text)) : null;
  } catch {
    return null;
  }
}

const str = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** The state in `value` (from storage or a link), with anything malformed dropped; null if unusable. */
export function coerceState(value: unknown): State | null {
  const o = obj(value);
  const policies = arr(o.policies).map((p) => {
    const t = obj(p);
    const kind = KINDS.some((k) => k.kind === t.kind) ? (t.kind as PolicyKind) : "identity-inline";
    const level = typeof t.level === "number" && Number.isInteger(t.level) && t.level >= 0 ? t.level : 0;
    return { name: str(t.name, "policy"), kind, level, text: str(t.text) };
  });
  if (!("request" in o) || !Array.isArray(o.policies)) return null;
  const r = obj(o.request);
  const request: RequestState = {
    principal: str(r.principal),
    action: str(r.action),
    resource: str(r.resource),
    resourceAccount: str(r.resourceAccount),
    sessionIssuer: str(r.sessionIssuer),
    principalTags: arr(r.principalTags).map((x) => ({ key: str(obj(x).key), value: str(obj(x).value) })),
    context: arr(r.context).map((x) => ({
      key: str(obj(x).key),
      value: str(obj(x).value),
      multi: obj(x).multi === true,
    })),
  };
  const batch = arr(o.batch).map((x) => ({ action: str(obj(x).action), resource: str(obj(x).resource) }));
  const active = typeof o.active === "number" && o.active >= 0 && o.active < policies.length ? o.active : 0;
  return { example: str(o.example), policies, active, request, batch };
}
