#!/usr/bin/env python3
"""End-to-end tests of the IAM API's roles, instance profiles, service-linked roles, managed
policies (and AWS's), their versions, inline policies, attachments and permissions boundaries, and
`iamlet iam import`: driven by boto3 and the AWS CLI against `iamlet serve` on a fresh database,
every error code these calls produce checked at least once, and authorization checked through
non-root users (imported with their keys) whose policies use `iam:PolicyARN` and
`iam:PermissionsBoundary`.

Run with `python3 tests/e2e/iam_policies_test.py -v` after `cargo build -p iamlet` (IAMLET_BIN
overrides the binary).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from controlplane import ACCOUNT, ControlPlane, error_code  # noqa: E402

from botocore.exceptions import ClientError  # noqa: E402

TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}
ALLOW_S3_READ = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}
ALLOW_EC2 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}],
}
S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def doc(d):
    return json.dumps(d)


def sized(n):
    """An identity policy of about n characters as AWS counts them."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "x" * n, "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


class Base(unittest.TestCase):
    cp = None

    @classmethod
    def setUpClass(cls):
        cls.cp = ControlPlane()
        cls.iam = cls.cp.root_client()

    @classmethod
    def tearDownClass(cls):
        cls.cp.close()

    def assertCode(self, code, call, *args, **kwargs):
        with self.assertRaises(ClientError) as ctx:
            call(*args, **kwargs)
        self.assertEqual(error_code(ctx.exception), code, ctx.exception.response["Error"])
        return ctx.exception.response["Error"]["Message"]


class RolesTest(Base):
    def test_roles_from_creation_to_deletion(self):
        role = self.iam.create_role(
            RoleName="web", Path="/app/", AssumeRolePolicyDocument=doc(TRUST_EC2),
            Description="serves the site", MaxSessionDuration=7200,
            Tags=[{"Key": "team", "Value": "web"}])["Role"]
        self.assertEqual(role["Arn"], f"arn:aws:iam::{ACCOUNT}:role/app/web")
        self.assertTrue(role["RoleId"].startswith("AROA"))
        self.assertEqual(role["MaxSessionDuration"], 7200)
        # boto3 decodes the URL-encoded trust policy.
        self.assertEqual(role["AssumeRolePolicyDocument"], TRUST_EC2)

        got = self.iam.get_role(RoleName="WEB")["Role"]
        self.assertEqual(got["RoleName"], "web")
        self.assertEqual(got["Tags"], [{"Key": "team", "Value": "web"}])
        self.assertEqual(got["Description"], "serves the site")
        msg = self.assertCode("EntityAlreadyExists", self.iam.create_role, RoleName="Web",
                              AssumeRolePolicyDocument=doc(TRUST_EC2))
        self.assertEqual(msg, "Role with name Web already exists.")
        # A trust policy names who may assume the role.
        msg = self.assertCode("MalformedPolicyDocument", self.iam.create_role, RoleName="bad",
                              AssumeRolePolicyDocument=doc(ALLOW_S3_READ))
        self.assertIn("Principal", msg)
        self.assertCode("ValidationError", self.iam.create_role, RoleName="long",
                        AssumeRolePolicyDocument=doc(TRUST_EC2), MaxSessionDuration=50000)
        big = json.loads(doc(TRUST_EC2))
        big["Statement"][0]["Sid"] = "s" * 2100
        msg = self.assertCode("LimitExceeded", self.iam.create_role, RoleName="big",
                              AssumeRolePolicyDocument=json.dumps(big))
        self.assertEqual(msg, "Cannot exceed quota for ACLSizePerRole: 2048")

        self.iam.update_role(RoleName="web", MaxSessionDuration=3600, Description="new")
        described = self.iam.update_role_description(RoleName="web", Description="newer")["Role"]
        self.assertEqual(described["Description"], "newer")
        self.assertEqual(described["MaxSessionDuration"], 3600)
        lambda_trust = json.loads(doc(TRUST_EC2))
        lambda_trust["Statement"][0]["Principal"]["Service"] = "lambda.amazonaws.com"
        self.iam.update_assume_role_policy(RoleName="web", PolicyDocument=json.dumps(lambda_trust))
        self.assertEqual(self.iam.get_role(RoleName="web")["Role"]["AssumeRolePolicyDocument"],
                         lambda_trust)

        self.iam.tag_role(RoleName="web", Tags=[{"Key": "env", "Value": "prod"}])
        self.iam.untag_role(RoleName="web", TagKeys=["team"])
        self.assertEqual(self.iam.list_role_tags(RoleName="web")["Tags"],
                         [{"Key": "env", "Value": "prod"}])

        for n in ("r1", "r2"):
            self.iam.create_role(RoleName=n, Path="/app/", AssumeRolePolicyDocument=doc(TRUST_EC2))
        first = self.iam.list_roles(PathPrefix="/app/", MaxItems=2)
        self.assertTrue(first["IsTruncated"])
        rest = self.iam.list_roles(PathPrefix="/app/", Marker=first["Marker"])
        names = [r["RoleName"] for r in first["Roles"] + rest["Roles"]]
        self.assertEqual(names, ["r1", "r2", "web"])
        self.assertNotIn("Tags", first["Roles"][0])
        paginated = [r["RoleName"] for page in
                     self.iam.get_paginator("list_roles").paginate(
                         PathPrefix="/app/", PaginationConfig={"PageSize": 1})
                     for r in page["Roles"]]
        self.assertEqual(paginated, ["r1", "r2", "web"])

        # Deleted once nothing is left: instance profile, inline policy, attached policy.
        self.iam.create_instance_profile(InstanceProfileName="web-ip")
        self.iam.add_role_to_instance_profile(InstanceProfileName="web-ip", RoleName="web")
        msg = self.assertCode("DeleteConflict", self.iam.delete_role, RoleName="web")
        self.assertEqual(msg, "Cannot delete entity, must remove roles from instance profile first.")
        self.iam.remove_role_from_instance_profile(InstanceProfileName="web-ip", RoleName="web")
        self.iam.put_role_policy(RoleName="web", PolicyName="p", PolicyDocument=doc(ALLOW_EC2))
        msg = self.assertCode("DeleteConflict", self.iam.delete_role, RoleName="web")
        self.assertEqual(msg, "Cannot delete entity, must delete policies first.")
        self.iam.delete_role_policy(RoleName="web", PolicyName="p")
        self.iam.attach_role_policy(RoleName="web", PolicyArn=S3_READ_ONLY)
        msg = self.assertCode("DeleteConflict", self.iam.delete_role, RoleName="web")
        self.assertEqual(msg, "Cannot delete entity, must detach all policies first.")
        self.iam.detach_role_policy(RoleName="web", PolicyArn=S3_READ_ONLY)
        self.iam.delete_role(RoleName="web")
        msg = self.assertCode("NoSuchEntity", self.iam.get_role, RoleName="web")
        self.assertEqual(msg, "The role with name web cannot be found.")
        self.iam.delete_instance_profile(InstanceProfileName="web-ip")

    def test_instance_profiles_hold_one_role(self):
        self.iam.create_role(RoleName="ip-a", AssumeRolePolicyDocument=doc(TRUST_EC2))
        self.iam.create_role(RoleName="ip-b", AssumeRolePolicyDocument=doc(TRUST_EC2))
        p = self.iam.create_instance_profile(
            InstanceProfileName="fleet", Path="/ec2/",
            Tags=[{"Key": "env", "Value": "prod"}])["InstanceProfile"]
        self.assertEqual(p["Arn"], f"arn:aws:iam::{ACCOUNT}:instance-profile/ec2/fleet")
        self.assertEqual(p["Roles"], [])
        self.assertCode("EntityAlreadyExists", self.iam.create_instance_profile,
                        InstanceProfileName="FLEET")
        self.iam.add_role_to_instance_profile(InstanceProfileName="fleet", RoleName="ip-a")
        msg = self.assertCode("LimitExceeded", self.iam.add_role_to_instance_profile,
                              InstanceProfileName="fleet", RoleName="ip-b")
        self.assertEqual(msg, "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
        got = self.iam.get_instance_profile(InstanceProfileName="fleet")["InstanceProfile"]
        self.assertEqual([r["RoleName"] for r in got["Roles"]], ["ip-a"])
        self.assertEqual(got["Roles"][0]["AssumeRolePolicyDocument"], TRUST_EC2)
        self.assertEqual(got["Tags"], [{"Key": "env", "Value": "prod"}])
        listed = self.iam.list_instance_profiles(PathPrefix="/ec2/")["InstanceProfiles"]
        self.assertEqual([p["InstanceProfileName"] for p in listed], ["fleet"])
        for_role = self.iam.list_instance_profiles_for_role(RoleName="ip-a")["InstanceProfiles"]
        self.assertEqual([p["InstanceProfileName"] for p in for_role], ["fleet"])
        msg = self.assertCode("DeleteConflict", self.iam.delete_instance_profile,
                              InstanceProfileName="fleet")
        self.assertEqual(msg, "Cannot delete entity, must remove roles from instance profile first.")
        self.iam.remove_role_from_instance_profile(InstanceProfileName="fleet", RoleName="ip-a")
        self.iam.delete_instance_profile(InstanceProfileName="fleet")
        msg = self.assertCode("NoSuchEntity", self.iam.get_instance_profile,
                              InstanceProfileName="fleet")
        self.assertEqual(msg, "Instance Profile fleet cannot be found.")

    def test_service_linked_roles_are_the_services(self):
        role = self.iam.create_service_linked_role(
            AWSServiceName="elasticbeanstalk.amazonaws.com", Description="Beanstalk")["Role"]
        self.assertEqual(role["RoleName"], "AWSServiceRoleForElasticBeanstalk")
        self.assertEqual(role["Path"], "/aws-service-role/elasticbeanstalk.amazonaws.com/")
        self.assertEqual(role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
                         {"Service": "elasticbeanstalk.amazonaws.com"})
        msg = self.assertCode("InvalidInput", self.iam.create_service_linked_role,
                              AWSServiceName="elasticbeanstalk.amazonaws.com")
        self.assertIn("has been taken in this account", msg)
        self.assertCode("InvalidInput", self.iam.create_service_linked_role,
                        AWSServiceName="elasticbeanstalk")
        name = role["RoleName"]
        protected = (f"Cannot perform the operation on the protected role '{name}' - "
                     "this role is only modifiable by AWS")
        for call, kwargs in [
            (self.iam.delete_role, {}),
            (self.iam.attach_role_policy, {"PolicyArn": S3_READ_ONLY}),
            (self.iam.put_role_policy, {"PolicyName": "p", "PolicyDocument": doc(ALLOW_EC2)}),
            (self.iam.update_assume_role_policy, {"PolicyDocument": doc(TRUST_EC2)}),
            (self.iam.put_role_permissions_boundary, {"PermissionsBoundary": S3_READ_ONLY}),
        ]:
            msg = self.assertCode("UnmodifiableEntity", call, RoleName=name, **kwargs)
            self.assertEqual(msg, protected)
        suffixed = self.iam.create_service_linked_role(
            AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="web")["Role"]
        self.assertEqual(suffixed["RoleName"], "AWSServiceRoleForAutoScaling_web")

        task = self.iam.delete_service_linked_role(RoleName=name)["DeletionTaskId"]
        self.assertTrue(task.startswith(
            f"task/aws-service-role/elasticbeanstalk.amazonaws.com/{name}/"), task)
        status = self.iam.get_service_linked_role_deletion_status(DeletionTaskId=task)
        self.assertEqual(status["Status"], "SUCCEEDED")
        self.assertCode("NoSuchEntity", self.iam.get_role, RoleName=name)
        self.assertCode("NoSuchEntity", self.iam.get_service_linked_role_deletion_status,
                        DeletionTaskId=f"task/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS/x")


class PoliciesTest(Base):
    def test_managed_policies_and_their_versions(self):
        p = self.iam.create_policy(
            PolicyName="Reader", Path="/team/", PolicyDocument=doc(ALLOW_S3_READ),
            Description="reads objects", Tags=[{"Key": "owner", "Value": "data"}])["Policy"]
        arn = p["Arn"]
        self.assertEqual(arn, f"arn:aws:iam::{ACCOUNT}:policy/team/Reader")
        self.assertEqual((p["DefaultVersionId"], p["AttachmentCount"], p["IsAttachable"]),
                         ("v1", 0, True))
        msg = self.assertCode("EntityAlreadyExists", self.iam.create_policy, PolicyName="reader",
                              PolicyDocument=doc(ALLOW_S3_READ))
        self.assertEqual(msg, "A policy called reader already exists. Duplicate names are not allowed.")
        msg = self.assertCode("MalformedPolicyDocument", self.iam.create_policy,
                              PolicyName="Broken",
                              PolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}')
        self.assertIn("Effect", msg)
        msg = self.assertCode("LimitExceeded", self.iam.create_policy, PolicyName="Huge",
                              PolicyDocument=sized(6200))
        self.assertEqual(msg, "Cannot exceed quota for PolicySize: 6144")
        self.assertCode("ValidationError", self.iam.create_policy, PolicyName="bad name",
                        PolicyDocument=doc(ALLOW_S3_READ))
        self.assertCode("ValidationError", self.iam.create_policy, PolicyName="BadPath",
                        Path="/with space/", PolicyDocument=doc(ALLOW_S3_READ))

        got = self.iam.get_policy(PolicyArn=arn)["Policy"]
        self.assertEqual(got["Description"], "reads objects")
        self.assertEqual(got["Tags"], [{"Key": "owner", "Value": "data"}])
        self.assertEqual(self.iam.list_policy_tags(PolicyArn=arn)["Tags"], got["Tags"])
        self.iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "tier", "Value": "1"}])
        self.iam.untag_policy(PolicyArn=arn, TagKeys=["owner"])
        self.assertEqual(self.iam.list_policy_tags(PolicyArn=arn)["Tags"],
                         [{"Key": "tier", "Value": "1"}])

        # Versions: up to five, one the default.
        v2 = self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(ALLOW_EC2),
                                            SetAsDefault=True)["PolicyVersion"]
        self.assertEqual((v2["VersionId"], v2["IsDefaultVersion"]), ("v2", True))
        for _ in range(3):
            self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(ALLOW_S3_READ))
        msg = self.assertCode("LimitExceeded", self.iam.create_policy_version, PolicyArn=arn,
                              PolicyDocument=doc(ALLOW_S3_READ))
        self.assertTrue(msg.startswith("A managed policy can have up to 5 versions."), msg)
        versions = self.iam.list_policy_versions(PolicyArn=arn)["Versions"]
        self.assertEqual([v["VersionId"] for v in versions], ["v5", "v4", "v3", "v2", "v1"])
        self.assertEqual([v["IsDefaultVersion"] for v in versions],
                         [False, False, False, True, False])
        version = self.iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]
        self.assertEqual(version["Document"], ALLOW_EC2)
        msg = self.assertCode("DeleteConflict", self.iam.delete_policy_version, PolicyArn=arn,
                              VersionId="v2")
        self.assertEqual(msg, "Cannot delete the default version of a policy.")
        self.iam.set_default_policy_version(PolicyArn=arn, VersionId="v5")
        self.assertEqual(self.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"], "v5")
        msg = self.assertCode("NoSuchEntity", self.iam.get_policy_version, PolicyArn=arn,
                              VersionId="v9")
        self.assertEqual(msg, f"Policy {arn} version v9 does not exist or is not attachable.")
        self.assertCode("ValidationError", self.iam.get_policy_version, PolicyArn=arn,
                        VersionId="version-2")
        msg = self.assertCode("DeleteConflict", self.iam.delete_policy, PolicyArn=arn)
        self.assertTrue(msg.startswith("This policy has more than one version."), msg)
        for v in ("v1", "v2", "v3", "v4"):
            self.iam.delete_policy_version(PolicyArn=arn, VersionId=v)
        self.iam.delete_policy(PolicyArn=arn)
        msg = self.assertCode("NoSuchEntity", self.iam.get_policy, PolicyArn=arn)
        self.assertEqual(msg, f"Policy {arn} was not found.")
        msg = self.assertCode("InvalidInput", self.iam.get_policy,
                              PolicyArn=f"arn:aws:iam::{ACCOUNT}:polic/Reader")
        self.assertEqual(msg, f"ARN arn:aws:iam::{ACCOUNT}:polic/Reader is not valid.")

    def test_aws_managed_policies_are_served_and_unmodifiable(self):
        p = self.iam.get_policy(PolicyArn=S3_READ_ONLY)["Policy"]
        self.assertEqual((p["PolicyId"], p["DefaultVersionId"], p["Path"]),
                         ("ANPAIZTJ4DXE7G6AGAE6M", "v3", "/"))
        d = self.iam.get_policy_version(PolicyArn=S3_READ_ONLY, VersionId="v3")["PolicyVersion"]
        actions = d["Document"]["Statement"][0]["Action"]
        for a in ("s3:Get*", "s3:List*", "s3-object-lambda:Get*", "s3-object-lambda:List*"):
            self.assertIn(a, actions)
        aws = [x["PolicyName"] for page in self.iam.get_paginator("list_policies").paginate(Scope="AWS")
               for x in page["Policies"]]
        for name in ("AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "IAMFullAccess",
                     "IAMReadOnlyAccess", "AmazonS3FullAccess", "AmazonS3ReadOnlyAccess"):
            self.assertIn(name, aws)
        job = self.iam.list_policies(Scope="AWS", PathPrefix="/job-function/")["Policies"]
        self.assertEqual([x["PolicyName"] for x in job], ["ViewOnlyAccess"])
        for call, kwargs in [
            (self.iam.delete_policy, {}),
            (self.iam.create_policy_version, {"PolicyDocument": doc(ALLOW_S3_READ)}),
            (self.iam.set_default_policy_version, {"VersionId": "v3"}),
            (self.iam.delete_policy_version, {"VersionId": "v3"}),
        ]:
            self.assertCode("UnmodifiableEntity", call, PolicyArn=S3_READ_ONLY, **kwargs)

    def test_lists_filter_by_scope_use_and_path(self):
        a = self.iam.create_policy(PolicyName="ListA", Path="/lists/",
                                   PolicyDocument=doc(ALLOW_S3_READ))["Policy"]["Arn"]
        b = self.iam.create_policy(PolicyName="ListB", Path="/lists/",
                                   PolicyDocument=doc(ALLOW_S3_READ))["Policy"]["Arn"]
        self.iam.create_user(UserName="lister", Path="/people/")
        self.iam.create_group(GroupName="listers")
        self.iam.create_role(RoleName="list-role", AssumeRolePolicyDocument=doc(TRUST_EC2),
                             PermissionsBoundary=b)
        self.iam.attach_user_policy(UserName="lister", PolicyArn=a)
        self.iam.attach_group_policy(GroupName="listers", PolicyArn=a)
        local = self.iam.list_policies(Scope="Local", PathPrefix="/lists/")["Policies"]
        self.assertEqual([p["PolicyName"] for p in local], ["ListA", "ListB"])
        self.assertNotIn("Description", local[0])
        attached = self.iam.list_policies(Scope="Local", PathPrefix="/lists/",
                                          OnlyAttached=True)["Policies"]
        self.assertEqual([(p["PolicyName"], p["AttachmentCount"]) for p in attached],
                         [("ListA", 2), ("ListB", 0)])
        bounding = self.iam.list_policies(Scope="Local", PolicyUsageFilter="PermissionsBoundary",
                                          PathPrefix="/lists/")["Policies"]
        self.assertEqual([(p["PolicyName"], p["PermissionsBoundaryUsageCount"]) for p in bounding],
                         [("ListB", 1)])
        self.assertCode("ValidationError", self.iam.list_policies, Scope="Mine")

        e = self.iam.list_entities_for_policy(PolicyArn=a)
        self.assertEqual([g["GroupName"] for g in e["PolicyGroups"]], ["listers"])
        self.assertEqual([u["UserName"] for u in e["PolicyUsers"]], ["lister"])
        self.assertEqual(e["PolicyRoles"], [])
        only_users = self.iam.list_entities_for_policy(PolicyArn=a, EntityFilter="User")
        self.assertEqual(only_users["PolicyGroups"], [])
        self.assertEqual(len(only_users["PolicyUsers"]), 1)
        self.assertTrue(only_users["PolicyUsers"][0]["UserId"].startswith("AIDA"))
        paged = self.iam.list_entities_for_policy(PolicyArn=a, MaxItems=1)
        self.assertTrue(paged["IsTruncated"])
        rest = self.iam.list_entities_for_policy(PolicyArn=a, Marker=paged["Marker"])
        self.assertEqual([u["UserName"] for u in rest["PolicyUsers"]], ["lister"])
        bounded = self.iam.list_entities_for_policy(PolicyArn=b,
                                                    PolicyUsageFilter="PermissionsBoundary")
        self.assertEqual([r["RoleName"] for r in bounded["PolicyRoles"]], ["list-role"])

        msg = self.assertCode("DeleteConflict", self.iam.delete_policy, PolicyArn=a)
        self.assertEqual(msg, "Cannot delete a policy attached to entities.")
        self.assertCode("DeleteConflict", self.iam.delete_policy, PolicyArn=b)
        self.iam.delete_role_permissions_boundary(RoleName="list-role")
        self.iam.delete_policy(PolicyArn=b)

    def test_inline_policies_of_users_groups_and_roles(self):
        self.iam.create_user(UserName="inl")
        self.iam.create_group(GroupName="inl-group")
        self.iam.create_role(RoleName="inl-role", AssumeRolePolicyDocument=doc(TRUST_EC2))
        for kind, owner in (("user", "inl"), ("group", "inl-group"), ("role", "inl-role")):
            key = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
            put = getattr(self.iam, f"put_{kind}_policy")
            get = getattr(self.iam, f"get_{kind}_policy")
            lst = getattr(self.iam, f"list_{kind}_policies")
            delete = getattr(self.iam, f"delete_{kind}_policy")
            put(**{key: owner}, PolicyName="Read", PolicyDocument=doc(ALLOW_S3_READ))
            put(**{key: owner}, PolicyName="ec2", PolicyDocument=doc(ALLOW_EC2))
            got = get(**{key: owner}, PolicyName="read")
            self.assertEqual((got[key], got["PolicyName"], got["PolicyDocument"]),
                             (owner, "Read", ALLOW_S3_READ))
            self.assertEqual(lst(**{key: owner})["PolicyNames"], ["ec2", "Read"])
            msg = self.assertCode("NoSuchEntity", get, **{key: owner}, PolicyName="nope")
            self.assertEqual(msg, f"The {kind} policy with name nope cannot be found.")
            self.assertCode("MalformedPolicyDocument", put, **{key: owner}, PolicyName="bad",
                            PolicyDocument='{"Statement": "everything"}')
            delete(**{key: owner}, PolicyName="Read")
            self.assertCode("NoSuchEntity", delete, **{key: owner}, PolicyName="Read")
        # All of an owner's inline documents together: 2048 for a user, 10240 for a role.
        self.iam.put_user_policy(UserName="inl", PolicyName="a", PolicyDocument=sized(1000))
        msg = self.assertCode("LimitExceeded", self.iam.put_user_policy, UserName="inl",
                              PolicyName="b", PolicyDocument=sized(1000))
        self.assertEqual(msg, "Maximum policy size of 2048 bytes exceeded for user inl")
        self.iam.put_role_policy(RoleName="inl-role", PolicyName="a", PolicyDocument=sized(4900))
        self.iam.put_role_policy(RoleName="inl-role", PolicyName="b", PolicyDocument=sized(4900))
        self.assertCode("LimitExceeded", self.iam.put_role_policy, RoleName="inl-role",
                        PolicyName="c", PolicyDocument=sized(300))
        msg = self.assertCode("NoSuchEntity", self.iam.put_user_policy, UserName="ghost",
                              PolicyName="a", PolicyDocument=doc(ALLOW_EC2))
        self.assertEqual(msg, "The user with name ghost cannot be found.")

    def test_attachments_and_boundaries(self):
        self.iam.create_user(UserName="att")
        self.iam.attach_user_policy(UserName="att", PolicyArn=S3_READ_ONLY)
        self.iam.attach_user_policy(UserName="att", PolicyArn=S3_READ_ONLY)
        arns = [self.iam.create_policy(PolicyName=f"Att{i}", Path="/att/",
                                       PolicyDocument=doc(ALLOW_EC2))["Policy"]["Arn"]
                for i in range(10)]
        for arn in arns[:9]:
            self.iam.attach_user_policy(UserName="att", PolicyArn=arn)
        msg = self.assertCode("LimitExceeded", self.iam.attach_user_policy, UserName="att",
                              PolicyArn=arns[9])
        self.assertEqual(msg, "Cannot exceed quota for PoliciesPerUser: 10")
        listed = self.iam.list_attached_user_policies(UserName="att")["AttachedPolicies"]
        self.assertEqual(len(listed), 10)
        team = self.iam.list_attached_user_policies(UserName="att", PathPrefix="/att/")
        self.assertEqual(len(team["AttachedPolicies"]), 9)
        msg = self.assertCode("NoSuchEntity", self.iam.detach_user_policy, UserName="att",
                              PolicyArn=arns[9])
        self.assertEqual(msg, f"Policy {arns[9]} was not found.")
        missing = f"arn:aws:iam::{ACCOUNT}:policy/Missing"
        msg = self.assertCode("NoSuchEntity", self.iam.attach_user_policy, UserName="att",
                              PolicyArn=missing)
        self.assertEqual(msg, f"Policy {missing} does not exist or is not attachable.")
        self.assertCode("InvalidInput", self.iam.attach_user_policy, UserName="att",
                        PolicyArn="arn:aws:iam::aws:policy/has:colon")
        # Longer than an ARN may be (boto3 checks only the shortest length itself).
        self.assertCode("ValidationError", self.iam.attach_user_policy, UserName="att",
                        PolicyArn="arn:aws:iam::aws:policy/" + "x" * 2048)
        msg = self.assertCode("DeleteConflict", self.iam.delete_user, UserName="att")
        self.assertEqual(msg, "Cannot delete entity, must detach all policies first.")

        self.iam.create_group(GroupName="att-g")
        self.iam.attach_group_policy(GroupName="att-g", PolicyArn=S3_READ_ONLY)
        self.assertEqual(
            self.iam.list_attached_group_policies(GroupName="att-g")["AttachedPolicies"],
            [{"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyArn": S3_READ_ONLY}])
        self.iam.detach_group_policy(GroupName="att-g", PolicyArn=S3_READ_ONLY)

        # Boundaries.
        self.iam.put_user_permissions_boundary(UserName="att", PermissionsBoundary=arns[0])
        user = self.iam.get_user(UserName="att")["User"]
        self.assertEqual(user["PermissionsBoundary"],
                         {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arns[0]})
        self.iam.delete_user_permissions_boundary(UserName="att")
        self.assertNotIn("PermissionsBoundary", self.iam.get_user(UserName="att")["User"])
        msg = self.assertCode("NoSuchEntity", self.iam.create_user, UserName="bounded",
                              PermissionsBoundary=missing)
        self.assertEqual(msg, f"Scope ARN: {missing} does not exist or is not attachable.")
        self.assertCode("InvalidInput", self.iam.create_user, UserName="bounded",
                        PermissionsBoundary="not-a-policy-arn-at-all")
        self.iam.create_role(RoleName="att-role", AssumeRolePolicyDocument=doc(TRUST_EC2))
        self.iam.put_role_permissions_boundary(RoleName="att-role",
                                               PermissionsBoundary=S3_READ_ONLY)
        role = self.iam.get_role(RoleName="att-role")["Role"]
        self.assertEqual(role["PermissionsBoundary"]["PermissionsBoundaryArn"], S3_READ_ONLY)
        self.iam.delete_role_permissions_boundary(RoleName="att-role")


class CliTest(Base):
    """The AWS CLI, an independent client, against the same API."""

    def aws(self, *args, check=True):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=self.cp.root["AccessKeyId"],
                   AWS_SECRET_ACCESS_KEY=self.cp.root["SecretAccessKey"],
                   AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        out = subprocess.run(["aws", "iam", *args, "--endpoint-url", self.cp.iam_url,
                              "--output", "json"], capture_output=True, text=True, env=env)
        if check and out.returncode != 0:
            self.fail(f"aws iam {' '.join(args)}: {out.stderr}")
        return out

    def test_cli_roles_policies_and_errors(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(TRUST_EC2, f)
            trust = f.name
        try:
            out = self.aws("create-role", "--role-name", "cli-role", "--path", "/cli/",
                           "--assume-role-policy-document", f"file://{trust}")
            self.assertEqual(json.loads(out.stdout)["Role"]["Arn"],
                             f"arn:aws:iam::{ACCOUNT}:role/cli/cli-role")
        finally:
            os.unlink(trust)
        self.aws("attach-role-policy", "--role-name", "cli-role", "--policy-arn", S3_READ_ONLY)
        attached = json.loads(self.aws("list-attached-role-policies", "--role-name",
                                       "cli-role").stdout)
        self.assertEqual(attached["AttachedPolicies"][0]["PolicyArn"], S3_READ_ONLY)
        out = self.aws("create-policy", "--policy-name", "CliPolicy", "--policy-document",
                       doc(ALLOW_EC2))
        arn = json.loads(out.stdout)["Policy"]["Arn"]
        version = json.loads(self.aws("get-policy-version", "--policy-arn", arn, "--version-id",
                                      "v1").stdout)
        self.assertEqual(version["PolicyVersion"]["Document"], ALLOW_EC2)
        self.aws("put-role-policy", "--role-name", "cli-role", "--policy-name", "inline",
                 "--policy-document", doc(ALLOW_S3_READ))
        names = json.loads(self.aws("list-role-policies", "--role-name", "cli-role").stdout)
        self.assertEqual(names["PolicyNames"], ["inline"])
        out = self.aws("get-policy", "--policy-arn", f"arn:aws:iam::{ACCOUNT}:policy/nope",
                       check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("NoSuchEntity", out.stderr)
        out = self.aws("delete-role", "--role-name", "cli-role", check=False)
        self.assertIn("DeleteConflict", out.stderr)


def write_json(directory, name, value):
    """A JSON file only its owner reads (a credentials file must be, or Iamlet refuses it)."""
    path = os.path.join(directory, name)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump(value, f)
    return path


class AuthorizationTest(Base):
    """Non-root callers, imported with `iamlet iam import` into the running control plane (their
    keys from a credentials file): what their policies allow, on AWS's keys, and nothing else."""

    LIMITED_KEY = "AKIALIMITEDEXAMPLE01"
    LIMITED_SECRET = "limited/secret/EXAMPLEKEY000000000000001"
    BOUNDED_KEY = "AKIABOUNDEDEXAMPLE02"
    BOUNDED_SECRET = "bounded/secret/EXAMPLEKEY000000000000002"
    DELEGATE_KEY = "AKIADELEGATEEXAMPLE3"
    DELEGATE_SECRET = "delegate/secret/EXAMPLEKEY00000000000003"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.import_callers()
        except BaseException:
            cls.cp.close()
            raise

    @classmethod
    def import_callers(cls):
        cls.boundary = cls.iam.create_policy(
            PolicyName="DevBoundary", PolicyDocument=doc(ALLOW_EC2))["Policy"]["Arn"]
        account = lambda kind, name: f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"  # noqa: E731
        export = {
            "UserDetailList": [
                {"UserName": "limited", "Arn": account("user", "limited"), "Path": "/",
                 "UserPolicyList": [{"PolicyName": "attach-s3-read-only", "PolicyDocument": {
                     "Version": "2012-10-17", "Statement": [{
                         "Effect": "Allow", "Action": "iam:AttachUserPolicy",
                         "Resource": account("user", "*"),
                         "Condition": {"ArnEquals": {"iam:PolicyARN": S3_READ_ONLY}}}]}}]},
                {"UserName": "bounded-creator", "Arn": account("user", "bounded-creator"),
                 "UserPolicyList": [{"PolicyName": "create-bounded-roles", "PolicyDocument": {
                     "Version": "2012-10-17", "Statement": [{
                         "Effect": "Allow", "Action": "iam:CreateRole",
                         "Resource": account("role", "*"),
                         "Condition": {"StringEquals": {"iam:PermissionsBoundary": cls.boundary}}}]}}]},
                {"UserName": "delegate", "Arn": account("user", "delegate"),
                 "UserPolicyList": [{"PolicyName": "only-fenced-users", "PolicyDocument": {
                     "Version": "2012-10-17", "Statement": [{
                         "Effect": "Allow",
                         "Action": ["iam:PutUserPolicy", "iam:AttachUserPolicy"],
                         "Resource": account("user", "*"),
                         "Condition": {"StringEquals": {"iam:PermissionsBoundary": cls.boundary}}},
                     # AWS's policies are read on the caller's policies alone, as in AWS.
                     {"Effect": "Allow", "Action": ["iam:GetPolicy", "iam:GetPolicyVersion"],
                      "Resource": "arn:aws:iam::aws:policy/*"}]}}]},
                {"UserName": "target", "Arn": account("user", "target")},
                # The account's own policy, named without being carried: the database's.
                {"UserName": "fenced", "Arn": account("user", "fenced"),
                 "PermissionsBoundary": {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                                         "PermissionsBoundaryArn": cls.boundary}},
                {"UserName": "open", "Arn": account("user", "open")},
            ],
        }
        credentials = {"accessKeys": [
            {"accessKeyId": cls.LIMITED_KEY, "secretAccessKey": cls.LIMITED_SECRET,
             "userArn": account("user", "limited"), "status": "Active",
             "createDate": "2026-01-01T00:00:00Z"},
            {"accessKeyId": cls.BOUNDED_KEY, "secretAccessKey": cls.BOUNDED_SECRET,
             "userArn": account("user", "bounded-creator"), "status": "Active",
             "createDate": "2026-01-01T00:00:00Z"},
            {"accessKeyId": cls.DELEGATE_KEY, "secretAccessKey": cls.DELEGATE_SECRET,
             "userArn": account("user", "delegate"), "status": "Active",
             "createDate": "2026-01-01T00:00:00Z"},
        ]}
        out = cls.cp.iamlet("iam", "import", "--database", cls.cp.database,
                            "--account", write_json(cls.cp.dir, "export.json", export),
                            "--credentials", write_json(cls.cp.dir, "credentials.json", credentials))
        assert out.stdout == "", out.stdout  # the account exists: no new root key is printed
        assert "6 users" in out.stderr, out.stderr
        cls.limited = cls.cp.client(key=cls.LIMITED_KEY, secret=cls.LIMITED_SECRET)
        cls.bounded = cls.cp.client(key=cls.BOUNDED_KEY, secret=cls.BOUNDED_SECRET)
        cls.delegate = cls.cp.client(key=cls.DELEGATE_KEY, secret=cls.DELEGATE_SECRET)
        # The server reloads the keys when their generation moves (it polls every 200 ms).
        deadline = time.monotonic() + 10
        while True:
            try:
                cls.limited.attach_user_policy(UserName="target", PolicyArn=S3_READ_ONLY)
                break
            except ClientError as e:
                if error_code(e) != "InvalidClientTokenId" or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def test_a_condition_on_the_policy_arn_allows_only_that_policy(self):
        attached = self.iam.list_attached_user_policies(UserName="target")["AttachedPolicies"]
        self.assertEqual([a["PolicyArn"] for a in attached], [S3_READ_ONLY])
        msg = self.assertCode("AccessDenied", self.limited.attach_user_policy, UserName="target",
                              PolicyArn=ADMIN)
        self.assertEqual(
            msg,
            f"User: arn:aws:iam::{ACCOUNT}:user/limited is not authorized to perform: "
            f"iam:AttachUserPolicy on resource: arn:aws:iam::{ACCOUNT}:user/target "
            "because no identity-based policy allows the iam:AttachUserPolicy action")
        # Nothing else: not detaching, not reading policies.
        msg = self.assertCode("AccessDenied", self.limited.detach_user_policy, UserName="target",
                              PolicyArn=S3_READ_ONLY)
        self.assertIn("iam:DetachUserPolicy", msg)
        msg = self.assertCode("AccessDenied", self.limited.get_policy, PolicyArn=S3_READ_ONLY)
        self.assertIn(f"on resource: {S3_READ_ONLY}", msg)
        # A user that does not exist is authorized first, then is NoSuchEntity.
        self.assertCode("NoSuchEntity", self.limited.attach_user_policy, UserName="nobody",
                        PolicyArn=S3_READ_ONLY)
        # The refusal is a decision-log line in CloudTrail's shape.
        denied = self.cp.wait_decision(
            lambda d: d.get("eventName") == "AttachUserPolicy"
            and d.get("errorCode") == "AccessDenied")
        self.assertEqual(denied["requestParameters"]["policyArn"], ADMIN)
        self.assertEqual(denied["userIdentity"]["userName"], "limited")
        self.assertEqual(denied["resource"], f"arn:aws:iam::{ACCOUNT}:user/target")

    def test_a_condition_on_the_boundary_forces_it(self):
        role = self.bounded.create_role(RoleName="bounded-role",
                                        AssumeRolePolicyDocument=doc(TRUST_EC2),
                                        PermissionsBoundary=self.boundary)["Role"]
        self.assertEqual(role["PermissionsBoundary"]["PermissionsBoundaryArn"], self.boundary)
        msg = self.assertCode("AccessDenied", self.bounded.create_role, RoleName="free-role",
                              AssumeRolePolicyDocument=doc(TRUST_EC2))
        self.assertIn(f"iam:CreateRole on resource: arn:aws:iam::{ACCOUNT}:role/free-role", msg)
        self.assertCode("AccessDenied", self.bounded.create_role, RoleName="other-bound",
                        AssumeRolePolicyDocument=doc(TRUST_EC2), PermissionsBoundary=S3_READ_ONLY)
        self.assertCode("NoSuchEntity", self.iam.get_role, RoleName="free-role")


    def test_the_identitys_boundary_decides_who_may_change_it(self):
        # AWS supplies a user's boundary as iam:PermissionsBoundary to the calls that change its
        # permissions: the delegate may grant only within DevBoundary.
        self.delegate.put_user_policy(UserName="fenced", PolicyName="ec2",
                                      PolicyDocument=doc(ALLOW_EC2))
        self.delegate.attach_user_policy(UserName="fenced", PolicyArn=ADMIN)
        self.assertEqual(self.iam.list_user_policies(UserName="fenced")["PolicyNames"], ["ec2"])
        msg = self.assertCode("AccessDenied", self.delegate.put_user_policy, UserName="open",
                              PolicyName="ec2", PolicyDocument=doc(ALLOW_EC2))
        self.assertIn(f"iam:PutUserPolicy on resource: arn:aws:iam::{ACCOUNT}:user/open", msg)
        self.assertCode("AccessDenied", self.delegate.attach_user_policy, UserName="open",
                        PolicyArn=ADMIN)
        self.assertEqual(self.iam.list_user_policies(UserName="open")["PolicyNames"], [])

    def test_aws_managed_policies_are_read_on_the_callers_policies(self):
        p = self.delegate.get_policy(PolicyArn=S3_READ_ONLY)["Policy"]
        self.assertEqual(p["DefaultVersionId"], "v3")
        v = self.delegate.get_policy_version(PolicyArn=S3_READ_ONLY, VersionId="v3")
        self.assertIn("s3:Get*", v["PolicyVersion"]["Document"]["Statement"][0]["Action"])
        self.assertCode("AccessDenied", self.delegate.get_policy, PolicyArn=self.boundary)


if __name__ == "__main__":
    unittest.main()
