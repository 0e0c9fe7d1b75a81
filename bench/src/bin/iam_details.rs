//! `iamlet-iam-details`: an account of AWS's default quotas in an IAM database, and the time the store
//! takes to read all of it (bench/iam/run's `details` scenario).
//!
//!     iamlet-iam-details populate --database sqlite:iam.db --account-id 111122223333 [--scale 1.0]
//!     iamlet-iam-details time --database sqlite:iam.db --runs 3
//!
//! `populate` writes through the store's own operations (the ones the IAM API calls), so the rows are
//! the API's: at full scale 5,000 users, 300 groups, 1,000 roles and 1,500 managed policies whose
//! documents hold 5 to 10 statements with conditions; each user is in 1 to 3 groups with an inline
//! policy and 1 to 3 attached policies, each group and role has an inline policy and attached ones.
//! It prints the root key as `iamlet iam init` does. `time` runs `all_details` in one read
//! transaction RUNS times and prints `{"seconds": [...], "users": N, ...}`.

use anyhow::{anyhow, Context, Result};
use clap::{Parser, Subcommand};
use iamlet_engine::PolicyType;
use iamlet_iam_store::{
    CreatePolicy, CreateRole, CreateUser, DatabaseUrl, Iam, IamPath, Name, NameKind, Owner,
    PolicyDocument, Quotas, Tag,
};
use std::path::Path;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "iamlet-iam-details",
    about = "A large account in an IAM database, and reading it"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the account and fill it.
    Populate {
        #[arg(long)]
        database: String,
        #[arg(long, default_value = "111122223333")]
        account_id: String,
        /// A fraction of AWS's default quotas (1.0 = 5,000 users, 300 groups, 1,000 roles, 1,500 policies).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// Time the store's `all_details` over the whole account.
    Time {
        #[arg(long)]
        database: String,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
}

/// How many of each entity a scale gives (at least one of each).
struct Sizes {
    users: usize,
    groups: usize,
    roles: usize,
    policies: usize,
}

impl Sizes {
    fn at(scale: f64) -> Sizes {
        // Rounded fractions of small whole numbers: the casts cannot lose anything that matters.
        let of = |n: f64| ((n * scale).round() as usize).max(1);
        Sizes {
            users: of(5000.0),
            groups: of(300.0),
            roles: of(1000.0),
            policies: of(1500.0),
        }
    }
}

/// A managed or inline policy document of 5 to 10 statements with conditions, as real ones are.
fn document(seed: usize) -> String {
    let services = [
        "s3",
        "dynamodb",
        "sqs",
        "sns",
        "kms",
        "logs",
        "ec2",
        "lambda",
        "secretsmanager",
    ];
    let statements: Vec<String> = (0..5 + seed % 6)
        .map(|i| {
            let service = services[(seed + i) % services.len()];
            let condition = match i % 4 {
                0 => format!(r#"{{"StringEquals":{{"aws:PrincipalTag/team":"team-{}"}}}}"#, seed % 17),
                1 => r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}"#.to_owned(),
                2 => format!(r#"{{"StringLike":{{"aws:ResourceTag/project":"p{}-*"}}}}"#, seed % 23),
                _ => r#"{"Bool":{"aws:SecureTransport":"true"}}"#.to_owned(),
            };
            format!(
                r#"{{"Sid":"S{i}","Effect":"{}","Action":["{service}:Get*","{service}:List*","{service}:Describe*"],"Resource":"arn:aws:{service}:*:*:res-{seed}-{i}/*","Condition":{condition}}}"#,
                if i == 4 { "Deny" } else { "Allow" }
            )
        })
        .collect();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

fn trust() -> String {
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#.to_owned()
}

fn name(value: &str, kind: NameKind) -> Result<Name> {
    Name::parse("Name", value, kind).map_err(|e| anyhow!("{e}"))
}

fn parsed(text: &str, kind: PolicyType) -> Result<PolicyDocument> {
    PolicyDocument::parse("PolicyDocument", text, kind).map_err(|e| anyhow!("{e}"))
}

async fn populate(database: &str, account: &str, scale: f64) -> Result<()> {
    let url = DatabaseUrl::parse(database, Path::new(".")).map_err(|e| anyhow!("{e}"))?;
    let (iam, key) = Iam::init(&url, account, Quotas::default())
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let sizes = Sizes::at(scale);
    let e = |e: iamlet_iam_store::IamError| anyhow!("{e}");
    let started = Instant::now();

    let mut policy_arns = Vec::with_capacity(sizes.policies);
    let mut tx = iam.write().await.map_err(e)?;
    for p in 0..sizes.policies {
        let info = iam
            .create_policy(
                &mut tx,
                &CreatePolicy {
                    name: name(&format!("policy-{p:05}"), NameKind::Policy)?,
                    path: IamPath::root(),
                    document: parsed(&document(p), PolicyType::Identity)?,
                    description: Some(format!("generated policy {p}")),
                    tags: vec![Tag::parse("owner", &format!("team-{}", p % 17)).map_err(e)?],
                },
            )
            .await
            .map_err(e)?;
        policy_arns.push(info.policy.arn);
    }
    tx.commit().await.map_err(e)?;

    let mut tx = iam.write().await.map_err(e)?;
    let mut groups = Vec::with_capacity(sizes.groups);
    for g in 0..sizes.groups {
        let group = name(&format!("group-{g:03}"), NameKind::Group)?;
        iam.create_group(&mut tx, &group, &IamPath::root())
            .await
            .map_err(e)?;
        iam.put_inline_policy(
            &mut tx,
            Owner::Group(&group),
            &name("inline", NameKind::Policy)?,
            &parsed(&document(g + 7), PolicyType::Identity)?,
        )
        .await
        .map_err(e)?;
        for k in 0..2 {
            iam.attach_policy(
                &mut tx,
                Owner::Group(&group),
                &policy_arns[(g * 3 + k) % policy_arns.len()],
            )
            .await
            .map_err(e)?;
        }
        groups.push(group);
    }
    tx.commit().await.map_err(e)?;

    for chunk in (0..sizes.roles).collect::<Vec<_>>().chunks(250) {
        let mut tx = iam.write().await.map_err(e)?;
        for &r in chunk {
            let role = name(&format!("role-{r:04}"), NameKind::Role)?;
            iam.create_role(
                &mut tx,
                &CreateRole {
                    name: role.clone(),
                    path: IamPath::parse("Path", Some("/service/")).map_err(e)?,
                    trust: parsed(&trust(), PolicyType::Trust)?,
                    description: None,
                    max_session_duration: 3600,
                    boundary: None,
                    tags: vec![
                        Tag::parse("env", if r % 2 == 0 { "prod" } else { "dev" }).map_err(e)?
                    ],
                },
            )
            .await
            .map_err(e)?;
            iam.put_inline_policy(
                &mut tx,
                Owner::Role(&role),
                &name("inline", NameKind::Policy)?,
                &parsed(&document(r + 11), PolicyType::Identity)?,
            )
            .await
            .map_err(e)?;
            iam.attach_policy(
                &mut tx,
                Owner::Role(&role),
                &policy_arns[(r * 7) % policy_arns.len()],
            )
            .await
            .map_err(e)?;
        }
        tx.commit().await.map_err(e)?;
    }

    for chunk in (0..sizes.users).collect::<Vec<_>>().chunks(250) {
        let mut tx = iam.write().await.map_err(e)?;
        for &u in chunk {
            let user = name(&format!("user-{u:05}"), NameKind::User)?;
            iam.create_user(
                &mut tx,
                &CreateUser {
                    name: user.clone(),
                    path: IamPath::root(),
                    boundary: None,
                    tags: vec![Tag::parse("team", &format!("team-{}", u % 17)).map_err(e)?],
                },
            )
            .await
            .map_err(e)?;
            for k in 0..1 + u % 3 {
                iam.add_user_to_group(&mut tx, &groups[(u + k * 101) % groups.len()], &user)
                    .await
                    .map_err(e)?;
                iam.attach_policy(
                    &mut tx,
                    Owner::User(&user),
                    &policy_arns[(u * 5 + k) % policy_arns.len()],
                )
                .await
                .map_err(e)?;
            }
            iam.put_inline_policy(
                &mut tx,
                Owner::User(&user),
                &name("inline", NameKind::Policy)?,
                &parsed(&document(u + 3), PolicyType::Identity)?,
            )
            .await
            .map_err(e)?;
        }
        tx.commit().await.map_err(e)?;
    }
    eprintln!(
        "populated {} users, {} groups, {} roles, {} policies in {:.1} s",
        sizes.users,
        sizes.groups,
        sizes.roles,
        sizes.policies,
        started.elapsed().as_secs_f64()
    );
    let out = serde_json::json!({
        "AccountId": iam.account_id(),
        "AccessKeyId": key.access_key_id,
        "SecretAccessKey": key.secret_access_key.expose(),
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

async fn time(database: &str, runs: usize) -> Result<()> {
    let url = DatabaseUrl::parse(database, Path::new(".")).map_err(|e| anyhow!("{e}"))?;
    let iam = Iam::open(&url, Quotas::default())
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let mut seconds = Vec::with_capacity(runs);
    let mut counts = (0, 0, 0, 0);
    for _ in 0..runs {
        let started = Instant::now();
        let mut tx = iam.read().await.map_err(|e| anyhow!("{e}"))?;
        let d = iam.all_details(&mut tx).await.map_err(|e| anyhow!("{e}"))?;
        seconds.push(started.elapsed().as_secs_f64());
        counts = (
            d.users.len(),
            d.groups.len(),
            d.roles.len(),
            d.policies.len(),
        );
    }
    let out = serde_json::json!({
        "seconds": seconds,
        "users": counts.0,
        "groups": counts.1,
        "roles": counts.2,
        "policies": counts.3,
    });
    println!("{out}");
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        match args.command {
            Command::Populate {
                database,
                account_id,
                scale,
            } => populate(&database, &account_id, scale).await,
            Command::Time { database, runs } => time(&database, runs).await,
        }
    })
}
