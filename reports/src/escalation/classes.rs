//! The escalation classes as data: for each, the actions a principal must be allowed (in order), on
//! which resource, and what doing them gains. The search ([`super::search`]) asks the engine about
//! each action for each specific resource; nothing here decides anything.

/// AWS's own managed policy that grants everything: it exists in every account, so attaching it
/// needs no `iam:CreatePolicy`.
pub(crate) const ADMIN_POLICY_ARN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// What the first action of a class is done to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Object {
    /// The subject itself, when it is a user.
    SubjectUser,
    /// The subject itself, when it is a role.
    SubjectRole,
    /// A group the subject (a user) belongs to.
    SubjectGroup,
    /// Any group (the subject, a user, joins it).
    AnyGroup,
    /// A customer managed policy that applies to the subject (attached to it or its groups, or its
    /// permissions boundary).
    SubjectPolicy,
    /// Another user.
    OtherUser,
    /// A role.
    Role,
    /// A role whose trust policy lets this service assume it.
    RoleTrusting(&'static str),
}

/// What the class gains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gain {
    /// A policy of the actor's choosing on the object (user, group or role).
    NewPolicy,
    /// The object (a managed policy) rewritten to a document of the actor's choosing.
    NewPolicyVersion,
    /// Another stored version of the object (a managed policy) put in force.
    OtherPolicyVersion,
    /// The subject joins the object (a group).
    JoinGroup,
    /// The subject's permissions boundary gone (or replaced by one that allows everything).
    NoBoundary,
    /// The object's (a user's) credentials.
    Credentials,
    /// A session of the object (a role).
    Session,
    /// The object's (a role's) trust policy rewritten to trust the actor, then a session of it.
    TrustThenSession,
}

/// Where an action of a class is done: the class's object, or a resource of a service the actor
/// creates (its name is the actor's to choose).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum On {
    /// The object of the class.
    Object,
    /// A resource the actor names, of this ARN shape (`{account}` filled in).
    Created(&'static str),
}

/// One action of a class.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Act {
    pub(crate) action: &'static str,
    pub(crate) on: On,
    /// Condition keys the action's request carries (`iam:PassedToService`…), with `{object}` and
    /// `{admin}` filled in.
    pub(crate) context: &'static [(&'static str, &'static str)],
    /// What this action gives, in words (`{object}` filled in).
    pub(crate) gives: &'static str,
}

/// One escalation class.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Class {
    /// The class's name, for people.
    pub(crate) name: &'static str,
    pub(crate) object: Object,
    pub(crate) acts: &'static [Act],
    pub(crate) gain: Gain,
    /// A condition the account cannot show, reported as "if …" (`{object}` filled in).
    pub(crate) assumes: Option<&'static str>,
}

const fn act(action: &'static str, gives: &'static str) -> Act {
    Act {
        action,
        on: On::Object,
        context: &[],
        gives,
    }
}

/// `iam:PassRole` of the class's role to the service its trust policy names (`{service}`).
const PASS: Act = Act {
    action: "iam:PassRole",
    on: On::Object,
    context: &[("iam:PassedToService", "{service}")],
    gives: "{object} passed to {service}",
};

const fn created(action: &'static str, arn: &'static str, gives: &'static str) -> Act {
    Act {
        action,
        on: On::Created(arn),
        context: &[],
        gives,
    }
}

const ATTACH_ADMIN: &[(&str, &str)] = &[("iam:PolicyARN", "{admin}")];
const FUNCTION: &str = "arn:aws:lambda:us-east-1:{account}:function:iamlet-escalation";

/// Every class, most direct first.
pub(crate) const CLASSES: &[Class] = &[
    Class {
        name: "CreatePolicyVersion",
        object: Object::SubjectPolicy,
        acts: &[act(
            "iam:CreatePolicyVersion",
            "a new default version of {object}",
        )],
        gain: Gain::NewPolicyVersion,
        assumes: None,
    },
    Class {
        name: "SetDefaultPolicyVersion",
        object: Object::SubjectPolicy,
        acts: &[act(
            "iam:SetDefaultPolicyVersion",
            "{version} of {object} in force",
        )],
        gain: Gain::OtherPolicyVersion,
        assumes: None,
    },
    Class {
        name: "PutUserPolicy",
        object: Object::SubjectUser,
        acts: &[act("iam:PutUserPolicy", "a new inline policy on {object}")],
        gain: Gain::NewPolicy,
        assumes: None,
    },
    Class {
        name: "AttachUserPolicy",
        object: Object::SubjectUser,
        acts: &[Act {
            action: "iam:AttachUserPolicy",
            on: On::Object,
            context: ATTACH_ADMIN,
            gives: "AdministratorAccess attached to {object}",
        }],
        gain: Gain::NewPolicy,
        assumes: None,
    },
    Class {
        name: "PutGroupPolicy",
        object: Object::SubjectGroup,
        acts: &[act("iam:PutGroupPolicy", "a new inline policy on {object}")],
        gain: Gain::NewPolicy,
        assumes: None,
    },
    Class {
        name: "AttachGroupPolicy",
        object: Object::SubjectGroup,
        acts: &[Act {
            action: "iam:AttachGroupPolicy",
            on: On::Object,
            context: ATTACH_ADMIN,
            gives: "AdministratorAccess attached to {object}",
        }],
        gain: Gain::NewPolicy,
        assumes: None,
    },
    Class {
        name: "PutRolePolicy",
        object: Object::SubjectRole,
        acts: &[act("iam:PutRolePolicy", "a new inline policy on {object}")],
        gain: Gain::NewPolicy,
        assumes: None,
    },
    Class {
        name: "AttachRolePolicy",
        object: Object::SubjectRole,
        acts: &[Act {
            action: "iam:AttachRolePolicy",
            on: On::Object,
            context: ATTACH_ADMIN,
            gives: "AdministratorAccess attached to {object}",
        }],
        gain: Gain::NewPolicy,
        assumes: None,
    },
    Class {
        name: "AddUserToGroup",
        object: Object::AnyGroup,
        acts: &[act("iam:AddUserToGroup", "membership of {object}")],
        gain: Gain::JoinGroup,
        assumes: None,
    },
    Class {
        name: "DeleteUserPermissionsBoundary",
        object: Object::SubjectUser,
        acts: &[act(
            "iam:DeleteUserPermissionsBoundary",
            "no permissions boundary on {object}",
        )],
        gain: Gain::NoBoundary,
        assumes: None,
    },
    Class {
        name: "DeleteRolePermissionsBoundary",
        object: Object::SubjectRole,
        acts: &[act(
            "iam:DeleteRolePermissionsBoundary",
            "no permissions boundary on {object}",
        )],
        gain: Gain::NoBoundary,
        assumes: None,
    },
    Class {
        name: "PutUserPermissionsBoundary",
        object: Object::SubjectUser,
        acts: &[Act {
            action: "iam:PutUserPermissionsBoundary",
            on: On::Object,
            context: &[("iam:PermissionsBoundary", "{admin}")],
            gives: "AdministratorAccess as the permissions boundary of {object}",
        }],
        gain: Gain::NoBoundary,
        assumes: None,
    },
    Class {
        name: "PutRolePermissionsBoundary",
        object: Object::SubjectRole,
        acts: &[Act {
            action: "iam:PutRolePermissionsBoundary",
            on: On::Object,
            context: &[("iam:PermissionsBoundary", "{admin}")],
            gives: "AdministratorAccess as the permissions boundary of {object}",
        }],
        gain: Gain::NoBoundary,
        assumes: None,
    },
    Class {
        name: "CreateAccessKey",
        object: Object::OtherUser,
        acts: &[act("iam:CreateAccessKey", "an access key of {object}")],
        gain: Gain::Credentials,
        assumes: None,
    },
    Class {
        name: "CreateLoginProfile",
        object: Object::OtherUser,
        acts: &[act(
            "iam:CreateLoginProfile",
            "a console password of {object}",
        )],
        gain: Gain::Credentials,
        assumes: Some("{object} has no console password yet"),
    },
    Class {
        name: "UpdateLoginProfile",
        object: Object::OtherUser,
        acts: &[act(
            "iam:UpdateLoginProfile",
            "a console password of {object}",
        )],
        gain: Gain::Credentials,
        assumes: Some("{object} has a console password"),
    },
    Class {
        name: "AssumeRole",
        object: Object::Role,
        acts: &[act("sts:AssumeRole", "a session of {object}")],
        gain: Gain::Session,
        assumes: None,
    },
    Class {
        name: "UpdateAssumeRolePolicy",
        object: Object::Role,
        acts: &[
            act(
                "iam:UpdateAssumeRolePolicy",
                "a trust policy of {object} that trusts the actor",
            ),
            act("sts:AssumeRole", "a session of {object}"),
        ],
        gain: Gain::TrustThenSession,
        assumes: None,
    },
    Class {
        name: "PassRole to Lambda (invoke)",
        object: Object::RoleTrusting("lambda.amazonaws.com"),
        acts: &[
            PASS,
            created(
                "lambda:CreateFunction",
                FUNCTION,
                "a Lambda function running as {object}",
            ),
            created(
                "lambda:InvokeFunction",
                FUNCTION,
                "code running as {object} (a session of it)",
            ),
        ],
        gain: Gain::Session,
        assumes: None,
    },
    Class {
        name: "PassRole to Lambda (event source)",
        object: Object::RoleTrusting("lambda.amazonaws.com"),
        acts: &[
            PASS,
            created(
                "lambda:CreateFunction",
                FUNCTION,
                "a Lambda function running as {object}",
            ),
            created(
                "lambda:CreateEventSourceMapping",
                "arn:aws:lambda:us-east-1:{account}:event-source-mapping:iamlet-escalation",
                "code running as {object} when the event source fires (a session of it)",
            ),
        ],
        gain: Gain::Session,
        assumes: None,
    },
    Class {
        name: "PassRole to EC2",
        object: Object::RoleTrusting("ec2.amazonaws.com"),
        acts: &[
            PASS,
            created(
                "ec2:RunInstances",
                "arn:aws:ec2:us-east-1:{account}:instance/*",
                "an instance whose profile holds {object} (a session of it)",
            ),
        ],
        gain: Gain::Session,
        assumes: Some("an instance profile holds {object}"),
    },
    Class {
        name: "PassRole to Glue",
        object: Object::RoleTrusting("glue.amazonaws.com"),
        acts: &[
            PASS,
            created(
                "glue:CreateDevEndpoint",
                "arn:aws:glue:us-east-1:{account}:devEndpoint/iamlet-escalation",
                "a Glue development endpoint running as {object} (a session of it)",
            ),
        ],
        gain: Gain::Session,
        assumes: None,
    },
    Class {
        name: "PassRole to CloudFormation",
        object: Object::RoleTrusting("cloudformation.amazonaws.com"),
        acts: &[
            PASS,
            created(
                "cloudformation:CreateStack",
                "arn:aws:cloudformation:us-east-1:{account}:stack/iamlet-escalation/*",
                "a stack whose resources are made as {object}",
            ),
        ],
        gain: Gain::Session,
        assumes: None,
    },
    Class {
        name: "PassRole to Data Pipeline",
        object: Object::RoleTrusting("datapipeline.amazonaws.com"),
        acts: &[
            PASS,
            created(
                "datapipeline:CreatePipeline",
                "arn:aws:datapipeline:us-east-1:{account}:pipeline/iamlet-escalation",
                "a pipeline",
            ),
            created(
                "datapipeline:PutPipelineDefinition",
                "arn:aws:datapipeline:us-east-1:{account}:pipeline/iamlet-escalation",
                "a pipeline definition running as {object} (a session of it)",
            ),
        ],
        gain: Gain::Session,
        assumes: None,
    },
    Class {
        name: "PassRole to SageMaker",
        object: Object::RoleTrusting("sagemaker.amazonaws.com"),
        acts: &[
            PASS,
            created(
                "sagemaker:CreateNotebookInstance",
                "arn:aws:sagemaker:us-east-1:{account}:notebook-instance/iamlet-escalation",
                "a notebook instance running as {object}",
            ),
            created(
                "sagemaker:CreatePresignedNotebookInstanceUrl",
                "arn:aws:sagemaker:us-east-1:{account}:notebook-instance/iamlet-escalation",
                "a shell in the notebook (a session of {object})",
            ),
        ],
        gain: Gain::Session,
        assumes: None,
    },
    Class {
        name: "PassRole to CodeBuild",
        object: Object::RoleTrusting("codebuild.amazonaws.com"),
        acts: &[
            PASS,
            created(
                "codebuild:CreateProject",
                "arn:aws:codebuild:us-east-1:{account}:project/iamlet-escalation",
                "a build project running as {object}",
            ),
            created(
                "codebuild:StartBuild",
                "arn:aws:codebuild:us-east-1:{account}:project/iamlet-escalation",
                "a build running as {object} (a session of it)",
            ),
        ],
        gain: Gain::Session,
        assumes: None,
    },
    Class {
        name: "UpdateFunctionCode",
        object: Object::RoleTrusting("lambda.amazonaws.com"),
        acts: &[created(
            "lambda:UpdateFunctionCode",
            "arn:aws:lambda:us-east-1:{account}:function:*",
            "code of a function running as {object} (a session of it)",
        )],
        gain: Gain::Session,
        assumes: Some("a Lambda function runs as {object}"),
    },
];
