"""Writes account.json and organization.json beside this file: the escalation example (every class of
`iamlet report escalation`, and the near misses it must not report). Run: python3 generate.py"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
A = "111122223333"
def arn(kind, name): return f"arn:aws:iam::{A}:{kind}/{name}"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
def doc(*stmts): return {"Version": "2012-10-17", "Statement": list(stmts)}
def allow(action, resource="*", cond=None, sid=None):
    s = {"Effect": "Allow", "Action": action, "Resource": resource}
    if cond: s["Condition"] = cond
    if sid: s["Sid"] = sid
    return s
def deny(action, resource="*"):
    return {"Effect": "Deny", "Action": action, "Resource": resource}
def inline(name, d): return {"PolicyName": name, "PolicyDocument": d}
def attached(a): return {"PolicyName": a.rsplit('/',1)[1], "PolicyArn": a}
def boundary(a): return {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": a}
users, groups, roles, policies = [], [], [], []
uid = [0]
def user(name, inl=None, att=(), grp=(), bnd=None):
    uid[0] += 1
    u = {"UserName": name, "UserId": f"AIDAESCALATION{uid[0]:06d}", "Arn": arn("user", name), "Path": "/",
         "UserPolicyList": [inline(name + "-policy", inl)] if inl else [],
         "GroupList": list(grp), "AttachedManagedPolicies": [attached(a) for a in att], "Tags": []}
    if bnd: u["PermissionsBoundary"] = boundary(bnd)
    users.append(u)
def role(name, trust, inl=None, att=(), bnd=None):
    uid[0] += 1
    r = {"RoleName": name, "RoleId": f"AROAESCALATION{uid[0]:06d}", "Arn": arn("role", name), "Path": "/",
         "AssumeRolePolicyDocument": trust,
         "RolePolicyList": [inline(name + "-policy", inl)] if inl else [],
         "AttachedManagedPolicies": [attached(a) for a in att], "Tags": []}
    if bnd: r["PermissionsBoundary"] = boundary(bnd)
    roles.append(r)
def group(name, inl=None, att=()):
    groups.append({"GroupName": name, "GroupId": "AGPA" + name.upper().replace('-', ''), "Arn": arn("group", name), "Path": "/",
                   "GroupPolicyList": [inline(name + "-policy", inl)] if inl else [],
                   "AttachedManagedPolicies": [attached(a) for a in att]})
def managed(name, versions, default="v1", a=None):
    policies.append({"PolicyName": name, "Arn": a or arn("policy", name), "DefaultVersionId": default,
                     "PolicyVersionList": [{"VersionId": v, "IsDefaultVersion": v == default, "Document": d} for v, d in versions]})
def trust_aws(p): return doc({"Effect": "Allow", "Principal": {"AWS": p}, "Action": "sts:AssumeRole"})
def trust_service(s): return doc({"Effect": "Allow", "Principal": {"Service": s}, "Action": "sts:AssumeRole"})

managed("AdministratorAccess", [("v1", doc(allow("*")))], a=ADMIN)
S3READ = doc(allow(["s3:GetObject", "s3:ListBucket"]))
managed("cpv-policy", [("v1", doc(allow("iam:CreatePolicyVersion", arn("policy", "cpv-policy"), sid="ManageOwnPolicy")))])
managed("dev-tools", [("v1", S3READ), ("v2", doc(allow("*")))])
managed("other-policy", [("v1", S3READ)])
managed("delete-boundary", [("v1", doc(allow(["s3:*", "iam:DeleteUserPermissionsBoundary", "iam:DeleteRolePermissionsBoundary"])))])
managed("put-boundary", [("v1", doc(allow(["s3:*", "iam:PutUserPermissionsBoundary", "iam:PutRolePermissionsBoundary"])))])
managed("s3-only", [("v1", doc(allow("s3:*")))])

group("g-admins", att=[ADMIN])
group("g-devs", inl=S3READ)

SELF = f"arn:aws:iam::{A}:user/${{aws:username}}"
# Who already is an administrator.
user("admin-user", att=[ADMIN])
role("admin-role", trust_aws(f"arn:aws:iam::{A}:root"), att=[ADMIN])
for svc, name in [("lambda", "lambda-admin"), ("ec2", "ec2-admin"), ("glue", "glue-admin"),
                  ("cloudformation", "cfn-admin"), ("datapipeline", "dp-admin"),
                  ("sagemaker", "sm-admin"), ("codebuild", "cb-admin")]:
    role(name, trust_service(f"{svc}.amazonaws.com"), att=[ADMIN])
role("locked-admin", trust_aws("arn:aws:iam::999999999999:root"), att=[ADMIN])

# One user per escalation class.
user("u-create-version", att=[arn("policy", "cpv-policy")])
user("u-set-default", inl=doc(allow("iam:SetDefaultPolicyVersion", arn("policy", "dev-tools"))), att=[arn("policy", "dev-tools")])
user("u-put-user-policy", inl=doc(allow("iam:PutUserPolicy", SELF, sid="OwnInlinePolicies")))
user("u-attach-user-policy", inl=doc(allow("iam:AttachUserPolicy", SELF)))
user("u-put-group-policy", inl=doc(allow("iam:PutGroupPolicy", arn("group", "g-devs"))), grp=["g-devs"])
user("u-attach-group-policy", inl=doc(allow("iam:AttachGroupPolicy", f"arn:aws:iam::{A}:group/*")), grp=["g-devs"])
user("u-add-to-group", inl=doc(allow("iam:AddUserToGroup", arn("group", "g-admins"))))
user("u-delete-boundary", att=[ADMIN], bnd=arn("policy", "delete-boundary"))
user("u-put-boundary", att=[ADMIN], bnd=arn("policy", "put-boundary"))
user("u-access-key", inl=doc(allow("iam:CreateAccessKey", arn("user", "admin-user"))))
user("u-login-profile", inl=doc(allow("iam:CreateLoginProfile", arn("user", "admin-user"))))
user("u-update-login", inl=doc(allow("iam:UpdateLoginProfile", arn("user", "admin-user"))))
user("u-assume", inl=doc(allow("sts:AssumeRole", arn("role", "admin-role"))))
user("u-update-trust", inl=doc(allow(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"], arn("role", "locked-admin"))))
def passrole(r, svc, *rest):
    return doc(allow("iam:PassRole", arn("role", r), {"StringEquals": {"iam:PassedToService": svc}}), *rest)
user("u-lambda-invoke", inl=passrole("lambda-admin", "lambda.amazonaws.com", allow(["lambda:CreateFunction", "lambda:InvokeFunction"])))
user("u-lambda-event", inl=passrole("lambda-admin", "lambda.amazonaws.com", allow(["lambda:CreateFunction", "lambda:CreateEventSourceMapping"])))
user("u-ec2", inl=passrole("ec2-admin", "ec2.amazonaws.com", allow("ec2:RunInstances")))
user("u-glue", inl=passrole("glue-admin", "glue.amazonaws.com", allow("glue:CreateDevEndpoint")))
user("u-cloudformation", inl=passrole("cfn-admin", "cloudformation.amazonaws.com", allow("cloudformation:CreateStack")))
user("u-datapipeline", inl=passrole("dp-admin", "datapipeline.amazonaws.com", allow("datapipeline:*")))
user("u-sagemaker", inl=passrole("sm-admin", "sagemaker.amazonaws.com", allow(["sagemaker:CreateNotebookInstance", "sagemaker:CreatePresignedNotebookInstanceUrl"])))
user("u-codebuild", inl=passrole("cb-admin", "codebuild.amazonaws.com", allow(["codebuild:CreateProject", "codebuild:StartBuild"])))
user("u-update-code", inl=doc(allow("lambda:UpdateFunctionCode", f"arn:aws:lambda:*:{A}:function:*")))
# Conditions the account cannot decide: reported as "if".
user("u-mfa-assume", inl=doc(allow("sts:AssumeRole", arn("role", "admin-role"), {"Bool": {"aws:MultiFactorPresent": "true"}})))
user("u-source-ip", inl=doc(allow("iam:PutUserPolicy", SELF, {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})))
# Roles that escalate themselves, and a chain.
role("r-put-self", trust_aws("arn:aws:iam::999999999999:root"), inl=doc(allow("iam:PutRolePolicy", arn("role", "r-put-self"))))
role("r-delete-boundary", trust_aws("arn:aws:iam::999999999999:root"), att=[ADMIN], bnd=arn("policy", "delete-boundary"))
role("r-put-boundary", trust_aws("arn:aws:iam::999999999999:root"), att=[ADMIN], bnd=arn("policy", "put-boundary"))
user("u-chain", inl=doc(allow("sts:AssumeRole", arn("role", "role-a"))))
role("role-a", trust_aws(f"arn:aws:iam::{A}:root"), inl=doc(allow(["iam:AttachRolePolicy", "sts:AssumeRole"], arn("role", "role-b"))))
role("role-b", trust_aws(arn("role", "role-a")), inl=doc(allow("s3:GetObject")))
# A cycle that leads nowhere.
role("loop-a", trust_aws(arn("role", "loop-b")), inl=doc(allow("sts:AssumeRole", arn("role", "loop-b"))))
role("loop-b", trust_aws(arn("role", "loop-a")), inl=doc(allow("sts:AssumeRole", arn("role", "loop-a"))))

# Near misses: none of these may be reported.
user("n-boundary", inl=doc(allow("iam:PutUserPolicy", SELF)), bnd=arn("policy", "s3-only"))
user("n-deny", inl=doc(allow("iam:CreateAccessKey", arn("user", "admin-user")), deny("iam:CreateAccessKey")))
user("n-trust", inl=doc(allow("sts:AssumeRole", arn("role", "locked-admin"))))
user("n-passrole", inl=doc(allow("iam:PassRole", arn("role", "lambda-admin"))))
user("n-version", inl=doc(allow("iam:CreatePolicyVersion", arn("policy", "other-policy"))))
user("bystander", att=[arn("policy", "other-policy")])
user("n-passrole-wrong-service", inl=passrole("lambda-admin", "ec2.amazonaws.com", allow("ec2:RunInstances")))

out = {"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies}
json.dump(out, open(os.path.join(HERE, "account.json"), "w"), indent=1)
org = {"Id": "o-a1b2c3d4e5", "ManagementAccount": "999988887777",
       "Policies": [{"Name": "FullAWSAccess", "Type": "SERVICE_CONTROL_POLICY", "Document": doc(allow("*"))},
                    {"Name": "NoAdminRole", "Type": "SERVICE_CONTROL_POLICY",
                     "Document": doc({"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": arn("role", "admin-role")})}],
       "Roots": [{"Id": "r-a1b2", "Policies": ["FullAWSAccess"]}],
       "Accounts": [{"Id": A, "Name": "escalation", "Parent": "r-a1b2", "Policies": ["FullAWSAccess", "NoAdminRole"]}]}
json.dump(org, open(os.path.join(HERE, "organization.json"), "w"), indent=1)
