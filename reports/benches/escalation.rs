//! The escalation analysis over a generated account: 5,000 users, 300 groups, 1,000 roles, 1,500
//! customer managed policies (sizes overridable: `ESC_USERS`, `ESC_GROUPS`, `ESC_ROLES`,
//! `ESC_POLICIES`). Most permissions are ordinary service access; a few per cent are IAM, STS and
//! PassRole grants, some of them escalation paths, as a real account has. Prints the account's
//! size, then the wall time of `escalation::analyze` over every principal, `ESC_RUNS` times (3).
//!
//! `cargo bench -p iamlet-reports --bench escalation`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iamlet_account::export::parse_export;
use iamlet_reports::escalation::{analyze, any_escalation, Options};
use serde_json::{json, Value};
use std::time::Instant;

const ACCOUNT: &str = "111122223333";

/// A small deterministic generator (xorshift), so every run analyzes the same account.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn doc(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

const SERVICES: &[(&str, &[&str])] = &[
    (
        "s3",
        &[
            "s3:GetObject",
            "s3:PutObject",
            "s3:ListBucket",
            "s3:DeleteObject",
        ],
    ),
    (
        "dynamodb",
        &["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
    ),
    (
        "sqs",
        &["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
    ),
    ("logs", &["logs:CreateLogStream", "logs:PutLogEvents"]),
    (
        "ec2",
        &["ec2:Describe*", "ec2:StartInstances", "ec2:StopInstances"],
    ),
    ("kms", &["kms:Decrypt", "kms:GenerateDataKey"]),
    ("lambda", &["lambda:GetFunction", "lambda:ListFunctions"]),
];

fn ordinary(rng: &mut Rng, i: usize) -> Value {
    let (service, actions) = SERVICES[rng.below(SERVICES.len())];
    let picked: Vec<&str> = actions.iter().filter(|_| rng.chance(60)).copied().collect();
    let actions = if picked.is_empty() {
        vec![actions[0]]
    } else {
        picked
    };
    let resource = match service {
        "s3" => format!("arn:aws:s3:::bucket-{}/*", i % 200),
        "ec2" | "logs" | "lambda" => "*".to_owned(),
        _ => format!("arn:aws:{service}:us-east-1:{ACCOUNT}:*-{}", i % 50),
    };
    let mut s = json!({"Effect": "Allow", "Action": actions, "Resource": resource});
    if rng.chance(10) {
        s["Condition"] = json!({"StringEquals": {"aws:RequestedRegion": "us-east-1"}});
    }
    s
}

/// IAM and STS grants, some of which are escalation paths and some near misses.
fn risky(rng: &mut Rng, users: usize, roles: usize) -> Value {
    let user = format!("arn:aws:iam::{ACCOUNT}:user/user-{}", rng.below(users));
    let role = format!("arn:aws:iam::{ACCOUNT}:role/role-{}", rng.below(roles));
    match rng.below(8) {
        0 => {
            json!({"Effect": "Allow", "Action": ["iam:CreateAccessKey", "iam:GetUser"], "Resource": format!("arn:aws:iam::{ACCOUNT}:user/${{aws:username}}")})
        }
        1 => json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role}),
        2 => json!({"Effect": "Allow", "Action": "iam:PassRole", "Resource": role,
                    "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}),
        3 => {
            json!({"Effect": "Allow", "Action": ["lambda:CreateFunction", "lambda:InvokeFunction"], "Resource": "*"})
        }
        4 => json!({"Effect": "Allow", "Action": "iam:CreateLoginProfile", "Resource": user}),
        5 => json!({"Effect": "Allow", "Action": ["iam:List*", "iam:Get*"], "Resource": "*"}),
        6 => json!({"Effect": "Allow", "Action": "iam:PutRolePolicy", "Resource": role}),
        _ => json!({"Effect": "Allow", "Action": "iam:AttachUserPolicy", "Resource": user,
                    "Condition": {"ArnEquals": {"iam:PolicyARN": format!("arn:aws:iam::{ACCOUNT}:policy/policy-1")}}}),
    }
}

fn account(users: usize, groups: usize, roles: usize, policies: usize) -> String {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    let mut policy_list = vec![
        json!({"PolicyName": "AdministratorAccess", "Arn": admin, "DefaultVersionId": "v1",
        "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": doc(vec![json!({"Effect": "Allow", "Action": "*", "Resource": "*"})])}]}),
    ];
    for i in 0..policies {
        let mut statements: Vec<Value> = (0..1 + rng.below(4))
            .map(|_| ordinary(&mut rng, i))
            .collect();
        if rng.chance(4) {
            statements.push(risky(&mut rng, users, roles));
        }
        policy_list.push(json!({"PolicyName": format!("policy-{i}"), "Arn": format!("arn:aws:iam::{ACCOUNT}:policy/policy-{i}"),
            "DefaultVersionId": "v1", "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": doc(statements)}]}));
    }
    let managed = |rng: &mut Rng| {
        format!(
            "arn:aws:iam::{ACCOUNT}:policy/policy-{}",
            rng.below(policies)
        )
    };
    let attached = |arns: Vec<String>| -> Vec<Value> {
        arns.into_iter().map(|a| json!({"PolicyArn": a})).collect()
    };
    let group_list: Vec<Value> = (0..groups)
        .map(|i| {
            let mut arns: Vec<String> = (0..1 + rng.below(3)).map(|_| managed(&mut rng)).collect();
            if i < 3 {
                arns = vec![admin.to_owned()];
            }
            arns.sort();
            arns.dedup();
            json!({"GroupName": format!("group-{i}"), "Arn": format!("arn:aws:iam::{ACCOUNT}:group/group-{i}"),
                   "GroupPolicyList": [], "AttachedManagedPolicies": attached(arns)})
        })
        .collect();
    let user_list: Vec<Value> = (0..users)
        .map(|i| {
            let mut gs: Vec<String> = (0..1 + rng.below(3))
                .map(|_| format!("group-{}", 3 + rng.below(groups - 3)))
                .collect();
            if i % 500 == 0 {
                gs.push("group-0".to_owned());
            }
            gs.sort();
            gs.dedup();
            let mut arns: Vec<String> = (0..rng.below(3)).map(|_| managed(&mut rng)).collect();
            arns.sort();
            arns.dedup();
            let inline: Vec<Value> = if rng.chance(10) {
                let mut s = vec![ordinary(&mut rng, i)];
                if rng.chance(20) {
                    s.push(risky(&mut rng, users, roles));
                }
                vec![json!({"PolicyName": "inline", "PolicyDocument": doc(s)})]
            } else {
                Vec::new()
            };
            let mut u = json!({"UserName": format!("user-{i}"), "UserId": format!("AIDA{i:017}"),
                "Arn": format!("arn:aws:iam::{ACCOUNT}:user/user-{i}"), "GroupList": gs,
                "UserPolicyList": inline, "AttachedManagedPolicies": attached(arns)});
            if rng.chance(5) {
                u["PermissionsBoundary"] = json!({"PermissionsBoundaryArn": managed(&mut rng)});
            }
            u
        })
        .collect();
    let services = ["lambda", "ec2", "ecs-tasks", "glue", "codebuild"];
    let role_list: Vec<Value> = (0..roles)
        .map(|i| {
            let trust = if rng.chance(60) {
                json!({"Service": format!("{}.amazonaws.com", services[rng.below(services.len())])})
            } else if rng.chance(50) {
                json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")})
            } else {
                json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:user/user-{}", rng.below(users))})
            };
            let arns: Vec<String> = if i % 100 == 0 {
                vec![admin.to_owned()]
            } else {
                let mut a: Vec<String> = (0..1 + rng.below(3)).map(|_| managed(&mut rng)).collect();
                a.sort();
                a.dedup();
                a
            };
            json!({"RoleName": format!("role-{i}"), "RoleId": format!("AROA{i:017}"),
                "Arn": format!("arn:aws:iam::{ACCOUNT}:role/role-{i}"),
                "AssumeRolePolicyDocument": doc(vec![json!({"Effect": "Allow", "Principal": trust, "Action": "sts:AssumeRole"})]),
                "RolePolicyList": [], "AttachedManagedPolicies": attached(arns)})
        })
        .collect();
    serde_json::to_string(
        &json!({"UserDetailList": user_list, "GroupDetailList": group_list,
        "RoleDetailList": role_list, "Policies": policy_list}),
    )
    .unwrap()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` (scripts/test) does not, and gets a
    // small account once, unoptimised, so that the benchmark cannot rot.
    let measuring = std::env::args().any(|a| a == "--bench");
    let scale = if measuring { 1 } else { 25 };
    let (users, groups, roles, policies) = (
        env("ESC_USERS", 5_000 / scale),
        env("ESC_GROUPS", 300 / scale),
        env("ESC_ROLES", 1_000 / scale),
        env("ESC_POLICIES", 1_500 / scale),
    );
    let text = account(users, groups, roles, policies);
    let details = parse_export("generated.json", &text).unwrap();
    let exports = vec![("generated.json".to_owned(), details)];
    println!(
        "account: {users} users, {groups} groups, {roles} roles, {policies} customer managed policies ({} KiB of JSON)",
        text.len() / 1024
    );
    for run in 1..=env("ESC_RUNS", if measuring { 3 } else { 1 }) {
        let start = Instant::now();
        // `ESC_PRINCIPAL` limits the search to one principal: what is left is building the account.
        let options = Options {
            principal: std::env::var("ESC_PRINCIPAL").ok(),
            ..Options::default()
        };
        let findings = analyze(&exports, None, &options).unwrap();
        let took = start.elapsed();
        let already = findings.iter().filter(|f| f.already).count();
        let escalating = findings.len() - already;
        let steps: usize = findings
            .iter()
            .flat_map(|f| f.paths.iter())
            .map(Vec::len)
            .sum();
        println!(
            "run {run}: {:.2} s — {already} already administrators, {escalating} can escalate ({steps} steps in all paths), exit {}",
            took.as_secs_f64(),
            if any_escalation(&findings) { 1 } else { 0 }
        );
    }
}
