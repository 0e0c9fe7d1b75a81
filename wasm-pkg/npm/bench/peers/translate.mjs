// A conformance-corpus case (tests/conformance/README.md) in @cloud-copilot/iam-simulate's terms,
// or the reason it cannot be expressed there; and iam-simulate's decision in the corpus's terms.
import { runSimulation, anonymousPrincipal } from "@cloud-copilot/iam-simulate";
import {
  createValidatedPolicy,
  validateIdentityPolicy,
  validateResourcePolicy,
  validateServiceControlPolicy,
  validateResourceControlPolicy,
} from "@cloud-copilot/iam-policy";

export class Skip extends Error {}

/** A corpus policy (a document, JSON text, or {name, document}) as {name, policy}. */
function policyOf(p, fallbackName) {
  let name = fallbackName;
  let doc = p;
  if (p && typeof p === "object" && "document" in p && !("Statement" in p)) {
    name = p.name ?? fallbackName;
    doc = p.document;
  }
  if (typeof doc === "string") {
    try {
      doc = JSON.parse(doc);
    } catch {
      throw new Skip("policy text that is not strict JSON (comments or trailing commas)");
    }
  }
  return { name, policy: doc };
}

/** RCPFullAWSAccess: a single statement allowing every principal every action on every resource. */
function isFullAccessRcp(doc) {
  const stmts = [doc.Statement].flat();
  return stmts.length === 1 && stmts[0].Effect === "Allow" && !stmts[0].Condition &&
    [stmts[0].Principal, stmts[0].Action, stmts[0].Resource].every((v) => v === "*" || (Array.isArray(v) && v.length === 1 && v[0] === "*"));
}

const isSession = (arn) => /^arn:[^:]+:sts::\d*:(assumed-role|federated-user)\//.test(arn);

/** The keys AWS puts in every request's context that the corpus leaves to the engine to derive
 * (tests/conformance/README.md): iam-simulate does not derive them, so they are given to it. */
function derivedKeys(principal, resourceAccount) {
  const out = {};
  const m = /^arn:([^:]+):(iam|sts)::(\d{12}):(.*)$/.exec(principal);
  if (m) {
    const [, partition, , account, rest] = m;
    let type;
    let arn = principal;
    if (rest === "root") type = "Account";
    else if (rest.startsWith("user/")) {
      type = "User";
      out["aws:username"] = rest.split("/").pop();
    } else if (rest.startsWith("role/")) type = "AssumedRole";
    else if (rest.startsWith("assumed-role/")) {
      type = "AssumedRole";
      arn = `arn:${partition}:iam::${account}:role/${rest.split("/")[1]}`;
    } else if (rest.startsWith("federated-user/")) type = "FederatedUser";
    out["aws:PrincipalArn"] = arn;
    out["aws:PrincipalAccount"] = account;
    out["aws:PrincipalType"] = type;
    out["aws:PrincipalIsAWSService"] = "false";
  } else if (principal.includes(".") && !principal.includes(":")) {
    out["aws:PrincipalType"] = "Service";
    out["aws:PrincipalIsAWSService"] = "true";
    out["aws:PrincipalServiceName"] = principal;
  }
  if (resourceAccount) out["aws:ResourceAccount"] = resourceAccount;
  return out;
}

const text = (v) => (typeof v === "string" ? v : typeof v === "boolean" || typeof v === "number" ? String(v) : JSON.stringify(v));

/** The Simulation for a corpus case. Throws Skip for what iam-simulate cannot express. */
export function toSimulation(c) {
  const r = c.request;
  if (r.session_issuer) throw new Skip("session_issuer (a role session's role path, or the IAM user behind a federated user): no input for it");
  const sessionPolicies = c.session_policies ?? [];
  if (sessionPolicies.length > 1) throw new Skip("more than one session policy (iam-simulate takes one)");
  let principal = r.principal;
  if (principal === "anonymous" || principal === "*") principal = anonymousPrincipal;
  else if (/^\d{12}$/.test(principal)) principal = `arn:aws:iam::${principal}:root`;
  const principalText = typeof principal === "string" ? principal : "";
  const principalAccount = /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(principalText)?.[1];
  const arnAccount = /^arn:[^:]*:[^:]*:[^:]*:([^:]*):/.exec(r.resource)?.[1];
  const resourceAccount = arnAccount || r.resource_account || principalAccount;
  if (!resourceAccount) throw new Skip("no account for the resource (iam-simulate needs one)");

  const context = {};
  const given = new Set();
  for (const [k, v] of Object.entries(r.context ?? {})) {
    context[k] = Array.isArray(v) ? v.map(text) : text(v);
    given.add(k.toLowerCase());
  }
  for (const [k, v] of Object.entries(derivedKeys(principalText || "anonymous", resourceAccount))) {
    if (!given.has(k.toLowerCase())) context[k] = v;
  }

  const sim = {
    request: {
      principal,
      action: r.action,
      resource: { resource: r.resource, accountId: resourceAccount },
      contextVariables: context,
    },
    identityPolicies: (c.identity_policies ?? []).map((p, i) => policyOf(p, `identity-${i}`)),
    serviceControlPolicies: (c.scps ?? []).map((level, i) => ({
      orgIdentifier: `ou-level-${i}`,
      policies: level.map((p, j) => policyOf(p, `scp-${i}-${j}`)),
    })),
    resourceControlPolicies: (c.rcps ?? []).map((level, i) => {
      // iam-simulate attaches RCPFullAWSAccess to every level itself, as AWS does (it cannot be
      // detached), and rejects it as a custom RCP (an RCP's own statements must deny): it is left
      // out here. RCPs only deny, so a level with or without it means the same.
      const policies = level.map((p, j) => policyOf(p, `rcp-${i}-${j}`));
      return { orgIdentifier: `ou-level-${i}`, policies: policies.filter((p) => !isFullAccessRcp(p.policy)) };
    }),
  };
  // A case that gives aws:ResourceTag for an S3 request means a bucket whose tags requests carry:
  // iam-simulate passes them only with attribute-based access control enabled on the bucket.
  if (r.action.toLowerCase().startsWith("s3:") && Object.keys(context).some((k) => k.toLowerCase().startsWith("aws:resourcetag/"))) {
    sim.additionalSettings = { s3: { bucketAbacEnabled: true } };
  }
  if (c.resource_policy) sim.resourcePolicy = policyOf(c.resource_policy, "resource").policy;
  if ((c.permission_boundaries ?? []).length) {
    sim.permissionBoundaryPolicies = c.permission_boundaries.map((p, i) => policyOf(p, `boundary-${i}`));
  }
  // Session policies apply only to sessions (tests/conformance/README.md); iam-simulate rejects them
  // for any other principal, so for others they are left out, which is what they mean there.
  if (sessionPolicies.length === 1 && isSession(principalText)) {
    sim.sessionPolicy = policyOf(sessionPolicies[0], "session").policy;
  }
  return sim;
}

/** The same simulation with every policy pre-validated, so that runSimulation skips validation. */
export function prevalidated(sim) {
  const v = (p, fn) => ({ ...p, policy: createValidatedPolicy(p.policy, fn, { name: p.name }) });
  const out = {
    ...sim,
    identityPolicies: sim.identityPolicies.map((p) => v(p, validateIdentityPolicy)),
    serviceControlPolicies: sim.serviceControlPolicies.map((l) => ({ ...l, policies: l.policies.map((p) => v(p, validateServiceControlPolicy)) })),
    resourceControlPolicies: sim.resourceControlPolicies.map((l) => ({ ...l, policies: l.policies.map((p) => v(p, validateResourceControlPolicy)) })),
  };
  if (sim.permissionBoundaryPolicies) out.permissionBoundaryPolicies = sim.permissionBoundaryPolicies.map((p) => v(p, validateIdentityPolicy));
  if (sim.resourcePolicy) out.resourcePolicy = createValidatedPolicy(sim.resourcePolicy, validateResourcePolicy);
  if (sim.sessionPolicy) out.sessionPolicy = createValidatedPolicy(sim.sessionPolicy, validateIdentityPolicy);
  return out;
}

const PEER_DECISION = { Allowed: "Allow", ExplicitlyDenied: "ExplicitDeny", ImplicitlyDenied: "ImplicitDeny" };

/** iam-simulate's decision, and the request's context keys it left out as not applying to the action. */
export async function peerDecision(sim) {
  const res = await runSimulation(sim, {});
  if (res.resultType === "error") {
    const detail = JSON.stringify(res.errors).slice(0, 300);
    throw new Skip(`iam-simulate rejects the input: ${res.errors.message}`, { cause: detail });
  }
  if (res.resultType !== "single") {
    throw new Skip("a resource with * for an action that has resource types: iam-simulate simulates it as a pattern");
  }
  return { decision: PEER_DECISION[res.overallResult] ?? `unknown ${res.overallResult}`, ignored: res.result.ignoredContextKeys ?? [] };
}

