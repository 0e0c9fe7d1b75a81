//! The evaluation flow itself: given every group's applicable statements, the steps AWS's logic
//! takes (explicit deny, organization policies, resource-based policies, identity-based policies,
//! boundaries, session policies) and the decision they come to, with each step written down when
//! explaining.

use super::{Deciding, Decision, Groups, PolicySet};
use crate::explain::{Step, StepKind, StepOutcome};
use crate::policy::principal::Grant;
use crate::policy::PolicyType;
use crate::request::{Prepared, PrincipalKind, Request};

/// How an evaluation ended.
pub(super) struct End {
    pub(super) decision: Decision,
    pub(super) deciding: Deciding,
    /// Empty unless explaining.
    pub(super) summary: String,
}

/// The steps of an evaluation, written down only when explaining: their text is built only then.
pub(super) struct Steps {
    pub(super) explaining: bool,
    pub(super) list: Vec<Step>,
}

impl Steps {
    fn note(
        &mut self,
        kind: StepKind,
        level: Option<usize>,
        outcome: StepOutcome,
        detail: impl FnOnce() -> String,
    ) {
        if self.explaining {
            self.list.push(Step::new(kind, level, outcome, detail()));
        }
    }

    /// Ends the evaluation with a deny at this step; the summary is the step's text.
    fn deny(
        &mut self,
        kind: StepKind,
        level: Option<usize>,
        decision: Decision,
        deciding: Deciding,
        summary: impl FnOnce() -> String,
    ) -> End {
        let summary = if self.explaining {
            summary()
        } else {
            String::new()
        };
        self.note(kind, level, StepOutcome::Deny, || summary.clone());
        End {
            decision,
            deciding,
            summary,
        }
    }

    fn implicit_deny(
        &mut self,
        kind: StepKind,
        level: Option<usize>,
        summary: impl FnOnce() -> String,
    ) -> End {
        self.deny(
            kind,
            level,
            Decision::ImplicitDeny,
            Deciding::Nothing,
            summary,
        )
    }

    /// Ends the evaluation with an allow; the summary names the first deciding statement, else
    /// `by`.
    fn allow(&self, deciding: Deciding, groups: &Groups<'_>, by: &str) -> End {
        let summary = if self.explaining {
            match deciding.hits(groups).first() {
                Some(first) => format!("allowed by {}", first.to_ref().describe()),
                None => format!("allowed by {by}"),
            }
        } else {
            String::new()
        };
        End {
            decision: Decision::Allow,
            deciding,
            summary,
        }
    }
}

/// AWS's evaluation flow over the applicable statements.
pub(super) struct Flow<'a, 'p> {
    pub(super) set: &'p PolicySet,
    pub(super) target: &'a Prepared<'a>,
    pub(super) groups: &'a Groups<'p>,
    pub(super) steps: Steps,
}

/// "`action` on `resource`", for summaries.
fn what(req: &Request) -> String {
    format!("`{}` on `{}`", req.action, req.resource)
}

impl Flow<'_, '_> {
    pub(super) fn run(&mut self) -> End {
        let (set, req, groups) = (self.set, self.target.req, self.groups);
        let kind = req.principal.kind;
        let is_service_or_anon = kind.only_resource_policies();

        // 1. Explicit deny anywhere.
        if let Some(first) = groups.denies().next() {
            return self.steps.deny(
                StepKind::ExplicitDeny,
                None,
                Decision::ExplicitDeny,
                Deciding::Denies,
                || format!("explicitly denied by {}", first.to_ref().describe()),
            );
        }
        self.steps
            .note(StepKind::ExplicitDeny, None, StepOutcome::Pass, || {
                "no applicable Deny statement".into()
            });

        // 2. RCPs only deny (their denies were step 1): a level never withholds an allow. Then
        // SCPs: every level must allow.
        for i in 0..groups.rcps.len() {
            self.steps
                .note(StepKind::Rcp, Some(i), StepOutcome::Pass, || {
                    format!("level {i}: resource control policies only deny, and no Deny applies")
                });
        }
        for (i, g) in groups.scps.iter().enumerate() {
            if !g.allows() {
                return self.steps.implicit_deny(StepKind::Scp, Some(i), || {
                    format!(
                        "implicitly denied: no service control policy at organization level {i} allows {}",
                        what(req)
                    )
                });
            }
            self.steps
                .note(StepKind::Scp, Some(i), StepOutcome::Pass, || {
                    format!("level {i} allows")
                });
        }

        let cross = self.target.cross_account;
        let root_here = kind == PrincipalKind::Root;
        let identity_allows = root_here || groups.identity.allows();
        let rbp_grant = groups.resource.best_grant();
        // Every KMS key has a key policy, and IAM policies grant access to a key only when it allows:
        // a request on a key with no key policy given is decided as AWS would decide it, denied.
        let kms = self.target.service.name() == "kms";
        let kms_key = kms
            && self
                .target
                .resource
                .arn()
                .is_some_and(|a| a.service == "kms" && a.resource.starts_with("key/"));
        // Every role has a trust policy, and an `sts:` action on a role (AssumeRole, TagSession,
        // SetSourceIdentity, …) is allowed only when it allows: a role whose trust policy was not
        // given (a role that does not exist) is never assumed on identity policies alone.
        let role_trust = self.target.service.name() == "sts"
            && self
                .target
                .resource
                .arn()
                .is_some_and(|a| a.service == "iam" && a.resource.starts_with("role/"));
        let must_have_rbp = kms_key
            || role_trust
            || (!set.resource.is_empty()
                && (kms
                    || set
                        .resource
                        .iter()
                        .any(|p| p.policy_type == PolicyType::Trust)));

        // 3. Resource-based policies.
        match rbp_grant {
            Some(g) => self
                .steps
                .note(StepKind::ResourcePolicy, None, StepOutcome::Allow, || {
                    format!("the resource-based policy allows, naming {}", g.describe())
                }),
            None if set.resource.is_empty() => self.steps.note(
                StepKind::ResourcePolicy,
                None,
                StepOutcome::NotApplicable,
                || "no resource-based policy".into(),
            ),
            None => self
                .steps
                .note(StepKind::ResourcePolicy, None, StepOutcome::Pass, || {
                    "the resource-based policy does not allow".into()
                }),
        }
        if must_have_rbp && rbp_grant.is_none() && set.resource.is_empty() {
            return self.steps.implicit_deny(StepKind::ResourcePolicy, None, || {
                if role_trust {
                    format!(
                        "implicitly denied: a role's trust policy must allow {}, and no trust policy was given for {} (a role that does not exist has none)",
                        req.action(),
                        req.resource()
                    )
                } else {
                    format!(
                        "implicitly denied: a KMS key's key policy must allow the principal (directly, or by naming the account so that IAM policies apply), and no key policy was given for {}",
                        req.resource()
                    )
                }
            });
        }
        if must_have_rbp && rbp_grant.is_none() {
            return self.steps.implicit_deny(StepKind::ResourcePolicy, None, || {
                format!(
                    "implicitly denied: role trust policies and KMS key policies must allow the principal, and the {} does not allow {}",
                    set.resource.first().map(|p| p.policy_type.label()).unwrap_or("resource-based policy"),
                    what(req)
                )
            });
        }
        if cross || is_service_or_anon {
            if rbp_grant.is_none() {
                return self.steps.implicit_deny(StepKind::ResourcePolicy, None, || {
                    if is_service_or_anon {
                        format!("implicitly denied: {} principals get access only from a resource-based policy, and none allows {}", match kind { PrincipalKind::Service => "service", PrincipalKind::WebIdentity => "web identity (federated)", _ => "anonymous" }, what(req))
                    } else {
                        format!(
                            "implicitly denied: cross-account access needs the resource-based policy of account {} to allow {}, and it does not",
                            req.resource_account().unwrap_or("?"),
                            what(req)
                        )
                    }
                });
            }
            if is_service_or_anon {
                return self.steps.allow(
                    Deciding::Resource(None),
                    groups,
                    "the resource-based policy",
                );
            }
        } else if let Some(g) = rbp_grant {
            if g == Grant::Direct {
                self.steps.note(StepKind::ResourcePolicy, None, StepOutcome::Allow, || {
                    "the resource-based policy names the principal itself; within one account that grant is not limited by implicit denies in identity-based policies, boundaries or session policies".into()
                });
                return self.steps.allow(
                    Deciding::Resource(Some(Grant::Direct)),
                    groups,
                    "the resource-based policy",
                );
            }
            if g == Grant::Issuer {
                if let Some(end) = self.limits(false) {
                    return end;
                }
                return self.steps.allow(
                    Deciding::Resource(Some(Grant::Issuer)),
                    groups,
                    "the resource-based policy",
                );
            }
        }

        // 4. Identity-based policies.
        if !identity_allows {
            return self.steps.implicit_deny(StepKind::Identity, None, || {
                format!(
                    "implicitly denied: no identity-based policy allows {}",
                    what(req)
                )
            });
        }
        self.steps
            .note(StepKind::Identity, None, StepOutcome::Allow, || {
                if root_here && !groups.identity.allows() {
                    "the account's root user has every permission in its own account".into()
                } else {
                    "an identity-based policy allows".into()
                }
            });
        // 5. Boundaries, 6. session policies.
        if let Some(end) = self.limits(true) {
            return end;
        }
        let by = if cross {
            "identity-based and resource-based policies"
        } else if root_here && groups.identity.allows.is_empty() {
            "the root user's own permissions"
        } else {
            "an identity-based policy"
        };
        self.steps.allow(
            Deciding::Identity {
                and_resource: cross,
            },
            groups,
            by,
        )
    }

    /// Steps 5 and 6, for a grant that they limit: every permissions boundary must allow, and for a
    /// session its session policies must (a role session without one keeps the role's permissions; a
    /// federated user session without one has none). `None` when they allow. `note_passes` also
    /// writes down the steps that pass (the identity-based path does; a resource-based grant to a
    /// session's issuer notes only a deny).
    fn limits(&mut self, note_passes: bool) -> Option<End> {
        let (set, req, groups) = (self.set, self.target.req, self.groups);
        let kind = req.principal.kind;
        let session_applies = kind.is_session();
        if let Some(i) = groups.boundaries.iter().position(|g| !g.allows()) {
            return Some(self.steps.implicit_deny(StepKind::Boundary, Some(i), || {
                let name = set
                    .boundaries
                    .get(i)
                    .map(|p| p.name.as_str())
                    .unwrap_or_default();
                format!(
                    "implicitly denied: the permissions boundary `{name}` does not allow {}",
                    what(req)
                )
            }));
        }
        if note_passes && !groups.boundaries.is_empty() {
            self.steps
                .note(StepKind::Boundary, None, StepOutcome::Pass, || {
                    "every permissions boundary allows".into()
                });
        }
        let session_ok = if !session_applies {
            true
        } else if set.session.is_empty() {
            kind == PrincipalKind::AssumedRole
        } else {
            groups.session.allows()
        };
        if !session_ok {
            return Some(self.steps.implicit_deny(StepKind::Session, None, || {
                if set.session.is_empty() {
                    "implicitly denied: a federated user session has only the permissions its session policy grants, and it has none".to_owned()
                } else {
                    format!(
                        "implicitly denied: no session policy allows {}",
                        what(req)
                    )
                }
            }));
        }
        if note_passes && session_applies && !set.session.is_empty() {
            self.steps
                .note(StepKind::Session, None, StepOutcome::Pass, || {
                    "a session policy allows".into()
                });
        }
        None
    }
}
