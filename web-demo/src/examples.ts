// The example gallery: scenarios from real IAM practice, most of them adapted from AWS's own policy
// examples. `expect` is the decision of the example's request; the end-to-end tests check every one.
import type { Decision } from "@iamlet/engine";
import { formatJson } from "./format";
import type { BatchRow, ContextRow, PolicyKind, State, TagRow } from "./state";

interface ExamplePolicy {
  name: string;
  kind: PolicyKind;
  level?: number;
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
  resourceAccount?: string;
  principalTags?: TagRow[];
  context?: ContextRow[];
  batch?: BatchRow[];
}

const ACCOUNT = "111122223333";
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
const BUCKET = "arn:aws:s3:::amzn-s3-demo-bucket";
const one = (key: string, value: string): ContextRow => ({ key, value, multi: false });
const many = (key: string, value: string): ContextRow => ({ key, value, multi: true });
const policy = (...Statement: unknown[]) => ({ Version: "2012-10-17", Statement });

export const EXAMPLES: Example[] = [
  {
    id: "developer",
    title: "A developer's day",
    blurb:
      "An identity policy with a ${aws:username} home prefix and an MFA guard, a boundary limited to the corporate network, and a region SCP. Try the rows below, or switch aws:MultiFactorAuthPresent to true.",
    expect: "Allow",
    policies: [
      {
        name: "developer",
        kind: "identity-inline",
        doc: policy(
          {
            Sid: "ListOwnPrefix",
            Effect: "Allow",
            Action: "s3:ListBucket",
            Resource: BUCKET,
            Condition: { StringLike: { "s3:prefix": ["home/${aws:username}/*"] } },
          },
          {
            Sid: "ReadWriteOwnPrefix",
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            Resource: `${BUCKET}/home/\${aws:username}/*`,
          },
          {
            Sid: "DenyDeleteWithoutMFA",
            Effect: "Deny",
            Action: "s3:DeleteObject",
            Resource: "*",
            Condition: { BoolIfExists: { "aws:MultiFactorAuthPresent": "false" } },
          },
        ),
      },
      {
        name: "s3-only-boundary",
        kind: "boundary",
        doc: policy({
          Sid: "S3FromCorporateNetwork",
          Effect: "Allow",
          Action: "s3:*",
          Resource: "*",
          Condition: { IpAddress: { "aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"] } },
        }),
      },
      {
        name: "deny-outside-eu",
        kind: "scp",
        doc: policy(
          { Sid: "AllowAll", Effect: "Allow", Action: "*", Resource: "*" },
          {
            Sid: "DenyOutsideEU",
            Effect: "Deny",
            NotAction: ["iam:*", "sts:*", "organizations:*", "support:*"],
            Resource: "*",
            Condition: { StringNotEquals: { "aws:RequestedRegion": ["eu-west-1", "eu-central-1"] } },
          },
        ),
      },
    ],
    principal: ALICE,
    action: "s3:GetObject",
    resource: `${BUCKET}/home/alice/notes.txt`,
    context: [
      one("aws:SourceIp", "203.0.113.7"),
      one("aws:RequestedRegion", "eu-west-1"),
      one("aws:MultiFactorAuthPresent", "false"),
    ],
    batch: [
      { action: "s3:GetObject", resource: `${BUCKET}/home/alice/notes.txt` },
      { action: "s3:GetObject", resource: `${BUCKET}/home/bob/notes.txt` },
      { action: "s3:DeleteObject", resource: `${BUCKET}/home/alice/notes.txt` },
      { action: "ec2:RunInstances", resource: `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/*` },
    ],
  },
  {
    id: "mfa",
    title: "MFA required",
    blurb:
      "Stopping or terminating instances needs a session signed in with MFA in the last hour. The request has no MFA: set aws:MultiFactorAuthPresent to true to see it allowed.",
    expect: "ImplicitDeny",
    policies: [
      {
        name: "ec2-operator",
        kind: "identity-managed",
        doc: policy(
          { Sid: "Describe", Effect: "Allow", Action: "ec2:Describe*", Resource: "*" },
          {
            Sid: "StopAndTerminateWithMFA",
            Effect: "Allow",
            Action: ["ec2:StopInstances", "ec2:TerminateInstances"],
            Resource: `arn:aws:ec2:*:${ACCOUNT}:instance/*`,
            Condition: {
              Bool: { "aws:MultiFactorAuthPresent": "true" },
              NumericLessThan: { "aws:MultiFactorAuthAge": "3600" },
            },
          },
        ),
      },
    ],
    principal: ALICE,
    action: "ec2:TerminateInstances",
    resource: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0123456789abcdef0`,
    context: [one("aws:MultiFactorAuthPresent", "false"), one("aws:MultiFactorAuthAge", "300")],
    batch: [
      { action: "ec2:DescribeInstances", resource: "*" },
      { action: "ec2:StopInstances", resource: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0123456789abcdef0` },
      { action: "ec2:TerminateInstances", resource: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0123456789abcdef0` },
    ],
  },
  {
    id: "source-ip",
    title: "Source IP restriction",
    blurb:
      "AWS's \u201cdeny access based on the source IP\u201d: everything is denied from outside two ranges, except calls AWS services make on the user's behalf. Change aws:SourceIp to 192.0.2.10.",
    expect: "ExplicitDeny",
    policies: [
      {
        name: "s3-reader",
        kind: "identity-managed",
        doc: policy({
          Sid: "ReadReports",
          Effect: "Allow",
          Action: ["s3:GetObject", "s3:ListBucket"],
          Resource: ["arn:aws:s3:::amzn-s3-demo-reports", "arn:aws:s3:::amzn-s3-demo-reports/*"],
        }),
      },
      {
        name: "deny-outside-office",
        kind: "identity-inline",
        doc: policy({
          Sid: "DenyOutsideOffice",
          Effect: "Deny",
          Action: "*",
          Resource: "*",
          Condition: {
            NotIpAddress: { "aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"] },
            Bool: { "aws:ViaAWSService": "false" },
          },
        }),
      },
    ],
    principal: ALICE,
    action: "s3:GetObject",
    resource: "arn:aws:s3:::amzn-s3-demo-reports/2026/q2.csv",
    context: [one("aws:SourceIp", "198.51.100.23"), one("aws:ViaAWSService", "false")],
    batch: [
      { action: "s3:GetObject", resource: "arn:aws:s3:::amzn-s3-demo-reports/2026/q2.csv" },
      { action: "s3:ListBucket", resource: "arn:aws:s3:::amzn-s3-demo-reports" },
    ],
  },
  {
    id: "abac",
    title: "ABAC with principal and resource tags",
    blurb:
      "Attribute-based access control: a role session may start and stop instances whose project tag equals its own. Change the principal's project tag to red.",
    expect: "Allow",
    policies: [
      {
        name: "abac-ec2",
        kind: "identity-managed",
        doc: policy(
          {
            Sid: "StartStopOwnProject",
            Effect: "Allow",
            Action: ["ec2:StartInstances", "ec2:StopInstances"],
            Resource: "arn:aws:ec2:*:*:instance/*",
            Condition: { StringEquals: { "aws:ResourceTag/project": "${aws:PrincipalTag/project}" } },
          },
          { Sid: "Describe", Effect: "Allow", Action: "ec2:DescribeInstances", Resource: "*" },
        ),
      },
    ],
    principal: `arn:aws:sts::${ACCOUNT}:assumed-role/project-engineer/alice`,
    action: "ec2:StopInstances",
    resource: `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0abc1234def567890`,
    principalTags: [
      { key: "project", value: "blue" },
      { key: "cost-center", value: "4711" },
    ],
    context: [one("aws:ResourceTag/project", "blue")],
    batch: [
      { action: "ec2:StopInstances", resource: `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0abc1234def567890` },
      { action: "ec2:TerminateInstances", resource: `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0abc1234def567890` },
      { action: "ec2:DescribeInstances", resource: "*" },
    ],
  },
  {
    id: "s3-home",
    title: "Per-user S3 prefix with ${aws:username}",
    blurb:
      "AWS's \u201cS3 home directory\u201d policy: each user lists and works only under home/<their name>/. The rows try Bob's folder and the bucket listing.",
    expect: "Allow",
    policies: [
      {
        name: "s3-home-directory",
        kind: "identity-managed",
        doc: policy(
          { Sid: "ListBuckets", Effect: "Allow", Action: ["s3:ListAllMyBuckets", "s3:GetBucketLocation"], Resource: "*" },
          {
            Sid: "ListOwnFolder",
            Effect: "Allow",
            Action: "s3:ListBucket",
            Resource: BUCKET,
            Condition: { StringLike: { "s3:prefix": ["", "home/", "home/${aws:username}/*"] } },
          },
          {
            Sid: "OwnFolderObjects",
            Effect: "Allow",
            Action: "s3:*Object",
            Resource: `${BUCKET}/home/\${aws:username}/*`,
          },
        ),
      },
    ],
    principal: ALICE,
    action: "s3:PutObject",
    resource: `${BUCKET}/home/alice/report.csv`,
    context: [one("s3:prefix", "home/alice/")],
    batch: [
      { action: "s3:PutObject", resource: `${BUCKET}/home/alice/report.csv` },
      { action: "s3:GetObject", resource: `${BUCKET}/home/bob/report.csv` },
      { action: "s3:ListBucket", resource: BUCKET },
    ],
  },
  {
    id: "boundary-admin",
    title: "A permissions boundary caps an admin",
    blurb:
      "The user has AdministratorAccess, but the boundary only allows S3, CloudWatch and EC2 reads: effective permissions are the intersection. Creating an IAM user is denied.",
    expect: "ImplicitDeny",
    policies: [
      {
        name: "AdministratorAccess",
        kind: "identity-managed",
        doc: policy({ Effect: "Allow", Action: "*", Resource: "*" }),
      },
      {
        name: "delegated-admin-boundary",
        kind: "boundary",
        doc: policy(
          {
            Sid: "AllowedServices",
            Effect: "Allow",
            Action: ["s3:*", "cloudwatch:*", "ec2:Describe*"],
            Resource: "*",
          },
          {
            Sid: "KeepTheBoundary",
            Effect: "Deny",
            Action: ["iam:DeleteUserPermissionsBoundary", "iam:PutUserPermissionsBoundary"],
            Resource: "*",
          },
        ),
      },
    ],
    principal: `arn:aws:iam::${ACCOUNT}:user/delegated-admin`,
    action: "iam:CreateUser",
    resource: `arn:aws:iam::${ACCOUNT}:user/mallory`,
    batch: [
      { action: "iam:CreateUser", resource: `arn:aws:iam::${ACCOUNT}:user/mallory` },
      { action: "s3:DeleteBucket", resource: BUCKET },
      { action: "ec2:DescribeInstances", resource: "*" },
      { action: "ec2:RunInstances", resource: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/*` },
    ],
  },
  {
    id: "scp-region",
    title: "SCP: deny outside approved regions",
    blurb:
      "Two organization levels: the root keeps FullAWSAccess, the workloads OU denies every region but two, exempting global services. Every level must allow; any deny wins.",
    expect: "ExplicitDeny",
    policies: [
      { name: "ec2-admin", kind: "identity-managed", doc: policy({ Effect: "Allow", Action: ["ec2:*", "iam:*"], Resource: "*" }) },
      {
        name: "FullAWSAccess",
        kind: "scp",
        level: 0,
        doc: policy({ Effect: "Allow", Action: "*", Resource: "*" }),
      },
      {
        name: "workloads-ou-regions",
        kind: "scp",
        level: 1,
        doc: policy(
          { Sid: "AllowAll", Effect: "Allow", Action: "*", Resource: "*" },
          {
            Sid: "DenyAllOutsideRequestedRegions",
            Effect: "Deny",
            NotAction: ["cloudfront:*", "iam:*", "route53:*", "support:*", "sts:*"],
            Resource: "*",
            Condition: { StringNotEquals: { "aws:RequestedRegion": ["eu-central-1", "eu-west-1"] } },
          },
        ),
      },
    ],
    principal: `arn:aws:sts::${ACCOUNT}:assumed-role/platform/alice`,
    action: "ec2:RunInstances",
    resource: `arn:aws:ec2:ap-southeast-2:${ACCOUNT}:instance/*`,
    context: [one("aws:RequestedRegion", "ap-southeast-2")],
    batch: [
      { action: "ec2:RunInstances", resource: `arn:aws:ec2:ap-southeast-2:${ACCOUNT}:instance/*` },
      { action: "iam:CreateRole", resource: `arn:aws:iam::${ACCOUNT}:role/app` },
    ],
  },
  {
    id: "cross-account",
    title: "Cross-account bucket policy",
    blurb:
      "A bucket in account 444455556666 grants reads to account 111122223333; across accounts both sides must allow, so Alice also needs her identity policy. Writes are not granted.",
    expect: "Allow",
    policies: [
      {
        name: "partner-bucket-policy",
        kind: "resource",
        doc: policy({
          Sid: "ReadForPartnerAccount",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: ["s3:GetObject", "s3:ListBucket"],
          Resource: ["arn:aws:s3:::amzn-s3-demo-partner-bucket", "arn:aws:s3:::amzn-s3-demo-partner-bucket/*"],
        }),
      },
      {
        name: "alice-partner-access",
        kind: "identity-inline",
        doc: policy({
          Sid: "UsePartnerBucket",
          Effect: "Allow",
          Action: "s3:*",
          Resource: ["arn:aws:s3:::amzn-s3-demo-partner-bucket", "arn:aws:s3:::amzn-s3-demo-partner-bucket/*"],
        }),
      },
    ],
    principal: ALICE,
    action: "s3:GetObject",
    resource: "arn:aws:s3:::amzn-s3-demo-partner-bucket/exports/2026-06.csv",
    resourceAccount: "444455556666",
    batch: [
      { action: "s3:GetObject", resource: "arn:aws:s3:::amzn-s3-demo-partner-bucket/exports/2026-06.csv" },
      { action: "s3:PutObject", resource: "arn:aws:s3:::amzn-s3-demo-partner-bucket/exports/2026-06.csv" },
      { action: "s3:ListBucket", resource: "arn:aws:s3:::amzn-s3-demo-partner-bucket" },
    ],
  },
  {
    id: "notaction-deny",
    title: "NotAction: deny all except MFA setup",
    blurb:
      "AWS's self-managed MFA pattern: until the user signs in with MFA, a Deny with NotAction blocks everything except the calls that set MFA up. PowerUserAccess itself allows with NotAction.",
    expect: "ExplicitDeny",
    policies: [
      {
        name: "PowerUserAccess",
        kind: "identity-managed",
        doc: policy(
          { Effect: "Allow", NotAction: ["iam:*", "organizations:*", "account:*"], Resource: "*" },
          {
            Effect: "Allow",
            Action: ["iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles", "organizations:DescribeOrganization"],
            Resource: "*",
          },
        ),
      },
      {
        name: "force-mfa",
        kind: "identity-inline",
        doc: policy(
          {
            Sid: "ManageOwnVirtualMFA",
            Effect: "Allow",
            Action: ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:ListMFADevices", "iam:ResyncMFADevice"],
            Resource: ["arn:aws:iam::*:mfa/*", "arn:aws:iam::*:user/${aws:username}"],
          },
          {
            Sid: "DenyAllExceptListedIfNoMFA",
            Effect: "Deny",
            NotAction: [
              "iam:CreateVirtualMFADevice",
              "iam:EnableMFADevice",
              "iam:GetUser",
              "iam:ListMFADevices",
              "iam:ListVirtualMFADevices",
              "iam:ResyncMFADevice",
              "sts:GetSessionToken",
            ],
            Resource: "*",
            Condition: { BoolIfExists: { "aws:MultiFactorAuthPresent": "false" } },
          },
        ),
      },
    ],
    principal: ALICE,
    action: "s3:ListAllMyBuckets",
    resource: "*",
    context: [one("aws:MultiFactorAuthPresent", "false")],
    batch: [
      { action: "s3:ListAllMyBuckets", resource: "*" },
      { action: "iam:EnableMFADevice", resource: `arn:aws:iam::${ACCOUNT}:user/alice` },
      { action: "iam:CreateUser", resource: `arn:aws:iam::${ACCOUNT}:user/mallory` },
    ],
  },
  {
    id: "passrole",
    title: "iam:PassRole limited by iam:PassedToService",
    blurb:
      "Alice may hand the ec2-app-* roles to EC2 only. Here she tries to pass one to Lambda: set iam:PassedToService to ec2.amazonaws.com to see it allowed.",
    expect: "ImplicitDeny",
    policies: [
      {
        name: "pass-app-roles-to-ec2",
        kind: "identity-inline",
        doc: policy(
          {
            Sid: "PassAppRolesToEC2",
            Effect: "Allow",
            Action: "iam:PassRole",
            Resource: `arn:aws:iam::${ACCOUNT}:role/ec2-app-*`,
            Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
          },
          {
            Sid: "LaunchWithProfile",
            Effect: "Allow",
            Action: ["ec2:RunInstances", "ec2:AssociateIamInstanceProfile", "iam:GetRole", "iam:ListInstanceProfiles"],
            Resource: "*",
          },
        ),
      },
    ],
    principal: ALICE,
    action: "iam:PassRole",
    resource: `arn:aws:iam::${ACCOUNT}:role/ec2-app-web`,
    context: [one("iam:PassedToService", "lambda.amazonaws.com")],
    batch: [
      { action: "iam:PassRole", resource: `arn:aws:iam::${ACCOUNT}:role/ec2-app-web` },
      { action: "iam:PassRole", resource: `arn:aws:iam::${ACCOUNT}:role/OrganizationAdmin` },
      { action: "iam:GetRole", resource: `arn:aws:iam::${ACCOUNT}:role/ec2-app-web` },
    ],
  },
  {
    id: "time-window",
    title: "A time window",
    blurb:
      "AWS's \u201callows access within specific dates\u201d: DynamoDB access only during the 2026 audit window. Move aws:CurrentTime to 2027 to see it denied.",
    expect: "Allow",
    policies: [
      {
        name: "audit-window",
        kind: "identity-managed",
        doc: policy({
          Sid: "AuditWindow",
          Effect: "Allow",
          Action: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
          Resource: `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/ledger`,
          Condition: {
            DateGreaterThan: { "aws:CurrentTime": "2026-07-01T00:00:00Z" },
            DateLessThan: { "aws:CurrentTime": "2026-09-30T23:59:59Z" },
          },
        }),
      },
    ],
    principal: `arn:aws:sts::${ACCOUNT}:assumed-role/auditor/carol`,
    action: "dynamodb:Query",
    resource: `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/ledger`,
    context: [one("aws:CurrentTime", "2026-08-15T09:30:00Z")],
    batch: [
      { action: "dynamodb:Query", resource: `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/ledger` },
      { action: "dynamodb:PutItem", resource: `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/ledger` },
    ],
  },
  {
    id: "rcp-perimeter",
    title: "RCP data perimeter",
    blurb:
      "A resource control policy keeps the organization's S3 data inside it: even a bucket policy that grants an outside account cannot open the door. RCPs only deny (AWS attaches RCPFullAWSAccess everywhere, and it grants nothing). Set aws:PrincipalOrgID to o-a1b2c3d4e5.",
    expect: "ExplicitDeny",
    policies: [
      {
        name: "enforce-org-identities",
        kind: "rcp",
        level: 0,
        doc: policy({
          Sid: "EnforceOrgIdentities",
          Effect: "Deny",
          Principal: "*",
          Action: ["s3:*", "sqs:*", "kms:*", "secretsmanager:*"],
          Resource: "*",
          Condition: {
            StringNotEqualsIfExists: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" },
            BoolIfExists: { "aws:PrincipalIsAWSService": "false" },
          },
        }),
      },
      {
        name: "shared-bucket-policy",
        kind: "resource",
        doc: policy({
          Sid: "VendorRead",
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::999988887777:root" },
          Action: "s3:GetObject",
          Resource: "arn:aws:s3:::amzn-s3-demo-shared/*",
        }),
      },
    ],
    principal: "arn:aws:iam::999988887777:user/vendor",
    action: "s3:GetObject",
    resource: "arn:aws:s3:::amzn-s3-demo-shared/price-list.pdf",
    resourceAccount: ACCOUNT,
    context: [one("aws:PrincipalOrgID", "o-zz99yy88xx")],
  },
  {
    id: "session-policy",
    title: "A session policy scopes down a role",
    blurb:
      "The role may use all of S3, but the session was assumed with a policy allowing reads of one prefix: a session gets the intersection. Writes are implicitly denied.",
    expect: "ImplicitDeny",
    policies: [
      { name: "data-role", kind: "identity-managed", doc: policy({ Effect: "Allow", Action: "s3:*", Resource: "*" }) },
      {
        name: "assume-role-session-policy",
        kind: "session",
        doc: policy({
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: "arn:aws:s3:::amzn-s3-demo-datalake/curated/*",
        }),
      },
    ],
    principal: `arn:aws:sts::${ACCOUNT}:assumed-role/data-role/etl-job`,
    action: "s3:PutObject",
    resource: "arn:aws:s3:::amzn-s3-demo-datalake/curated/2026/06/part-0001.parquet",
    batch: [
      { action: "s3:PutObject", resource: "arn:aws:s3:::amzn-s3-demo-datalake/curated/2026/06/part-0001.parquet" },
      { action: "s3:GetObject", resource: "arn:aws:s3:::amzn-s3-demo-datalake/curated/2026/06/part-0001.parquet" },
      { action: "s3:GetObject", resource: "arn:aws:s3:::amzn-s3-demo-datalake/raw/2026/06/events.json" },
    ],
  },
  {
    id: "tag-on-create",
    title: "Require tags on create",
    blurb:
      "Secrets may only be created with an owner tag, and only the tag keys owner and project: ForAllValues on the multivalued aws:TagKeys. Add a third key to the list to see it fail.",
    expect: "Allow",
    policies: [
      {
        name: "create-tagged-secrets",
        kind: "identity-inline",
        doc: policy({
          Sid: "CreateTaggedSecrets",
          Effect: "Allow",
          Action: ["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
          Resource: "*",
          Condition: {
            StringEquals: { "aws:RequestTag/owner": "${aws:username}" },
            "ForAllValues:StringEquals": { "aws:TagKeys": ["owner", "project"] },
          },
        }),
      },
    ],
    principal: ALICE,
    action: "secretsmanager:CreateSecret",
    resource: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:app/db-password-AbCdEf`,
    context: [one("aws:RequestTag/owner", "alice"), many("aws:TagKeys", "owner, project")],
  },
];

export const DEFAULT_EXAMPLE = EXAMPLES[0];

export function exampleState(example: Example): State {
  return {
    example: example.id,
    policies: example.policies.map((p) => ({
      name: p.name,
      kind: p.kind,
      level: p.level ?? 0,
      text: formatJson(p.doc) + "\n",
    })),
    active: 0,
    request: {
      principal: example.principal,
      action: example.action,
      resource: example.resource,
      resourceAccount: example.resourceAccount ?? "",
      sessionIssuer: "",
      principalTags: example.principalTags?.map((t) => ({ ...t })) ?? [],
      context: example.context?.map((c) => ({ ...c })) ?? [],
    },
    batch: example.batch?.map((b) => ({ ...b })) ?? [],
  };
}
