//! Service-linked roles: created for an AWS service (`CreateServiceLinkedRole`), trusted by it
//! alone, under `/aws-service-role/SERVICE/`, and deleted only through
//! `DeleteServiceLinkedRole`, which answers a deletion task whose status
//! `GetServiceLinkedRoleDeletionStatus` reports.
//!
//! The role's name is `AWSServiceRoleFor` and the service's part, as AWS names it: from AWS's
//! table for the common services (`KNOWN` below); for any other `PREFIX.amazonaws.com`, each
//! `-`-separated word of the prefix with its first letter in upper case (`appstream` →
//! `Appstream`, `compute-optimizer` → `ComputeOptimizer`). A `CustomSuffix` is appended after `_`.

use crate::db::{db_error, Tx};
use crate::document::PolicyDocument;
use crate::error::IamError;
use crate::model::{now, Role};
use crate::names::{constraint, IamPath, Name, NameKind};
use crate::roles::{CreateRole, DEFAULT_MAX_SESSION_DURATION};
use crate::Iam;
use iamlet_engine::PolicyType;

/// AWS's names for the service-linked roles of common services (`AWSServiceRoleFor` + the name).
const KNOWN: &[(&str, &str)] = &[
    ("access-analyzer.amazonaws.com", "AccessAnalyzer"),
    ("autoscaling.amazonaws.com", "AutoScaling"),
    ("backup.amazonaws.com", "Backup"),
    ("cloudtrail.amazonaws.com", "CloudTrail"),
    ("config.amazonaws.com", "Config"),
    ("dax.amazonaws.com", "DAX"),
    (
        "dynamodb.application-autoscaling.amazonaws.com",
        "ApplicationAutoScaling_DynamoDBTable",
    ),
    ("ec2fleet.amazonaws.com", "EC2Fleet"),
    (
        "ecs.application-autoscaling.amazonaws.com",
        "ApplicationAutoScaling_ECSService",
    ),
    ("ecs.amazonaws.com", "ECS"),
    ("eks.amazonaws.com", "AmazonEKS"),
    ("eks-nodegroup.amazonaws.com", "AmazonEKSNodegroup"),
    ("elasticache.amazonaws.com", "ElastiCache"),
    ("elasticbeanstalk.amazonaws.com", "ElasticBeanstalk"),
    ("elasticloadbalancing.amazonaws.com", "ElasticLoadBalancing"),
    ("es.amazonaws.com", "AmazonElasticsearchService"),
    ("events.amazonaws.com", "CloudWatchEvents"),
    ("fsx.amazonaws.com", "AmazonFSx"),
    ("globalaccelerator.amazonaws.com", "GlobalAccelerator"),
    ("guardduty.amazonaws.com", "AmazonGuardDuty"),
    ("inspector2.amazonaws.com", "AmazonInspector2"),
    ("kafka.amazonaws.com", "Kafka"),
    ("opensearchservice.amazonaws.com", "AmazonOpenSearchService"),
    ("organizations.amazonaws.com", "Organizations"),
    ("rds.amazonaws.com", "RDS"),
    ("redshift.amazonaws.com", "Redshift"),
    ("replicator.lambda.amazonaws.com", "LambdaReplicator"),
    ("securityhub.amazonaws.com", "SecurityHub"),
    ("spot.amazonaws.com", "EC2Spot"),
    ("spotfleet.amazonaws.com", "EC2SpotFleet"),
    ("ssm.amazonaws.com", "AmazonSSM"),
    ("sso.amazonaws.com", "SSO"),
    ("support.amazonaws.com", "Support"),
    ("transitgateway.amazonaws.com", "VPCTransitGateway"),
    ("trustedadvisor.amazonaws.com", "TrustedAdvisor"),
];

/// `CreateServiceLinkedRole`'s parameters.
#[derive(Clone, Debug)]
pub struct CreateServiceLinkedRole {
    /// `AWSServiceName`: `SERVICE.amazonaws.com`.
    pub service: String,
    /// `CustomSuffix`.
    pub suffix: Option<String>,
    /// `Description`.
    pub description: Option<String>,
}

/// What a `DeleteServiceLinkedRole` task reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeletionStatus {
    /// The role is gone (Iamlet deletes at once).
    Succeeded,
}

impl DeletionStatus {
    /// As AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            DeletionStatus::Succeeded => "SUCCEEDED",
        }
    }
}

/// Checks `AWSServiceName`: a service principal, `PREFIX.amazonaws.com`.
pub fn parse_service_name(param: &str, value: &str) -> Result<String, IamError> {
    // The parameter is typed as a group name: 1 to 128 of `[\w+=,.@-]`.
    let name = Name::parse(param, value, NameKind::Group)?;
    let prefix = name.as_str().strip_suffix(".amazonaws.com").unwrap_or("");
    let ok = !prefix.is_empty()
        && prefix
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if !ok {
        return Err(IamError::invalid_input(format!(
            "Unrecognized service principal {value}: AWSServiceName is a service's principal, such as elasticbeanstalk.amazonaws.com"
        )));
    }
    Ok(name.as_str().to_owned())
}

/// Checks `CustomSuffix`: 1 to 64 of `[\w+=,.@-]`.
pub fn parse_suffix(param: &str, value: &str) -> Result<String, IamError> {
    Name::parse(param, value, NameKind::Role)
        .map(|n| n.as_str().to_owned())
        .map_err(|_| {
            constraint(
                param,
                value,
                "Member must have length between 1 and 64 and satisfy regular expression pattern: [\\w+=,.@-]+",
            )
        })
}

/// The role name AWS gives a service's service-linked role.
pub fn role_name(service: &str, suffix: Option<&str>) -> String {
    let base = KNOWN
        .iter()
        .find(|(s, _)| *s == service)
        .map(|(_, n)| (*n).to_owned())
        .unwrap_or_else(|| {
            let prefix = service.strip_suffix(".amazonaws.com").unwrap_or(service);
            prefix
                .split(['-', '.'])
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                })
                .collect()
        });
    match suffix {
        Some(s) => format!("AWSServiceRoleFor{base}_{s}"),
        None => format!("AWSServiceRoleFor{base}"),
    }
}

/// The path of a service's service-linked roles: `/aws-service-role/SERVICE/`.
pub fn role_path(service: &str) -> IamPath {
    IamPath::stored(format!("/aws-service-role/{service}/"))
}

/// The trust policy of a service's service-linked role: the service may assume it.
fn trust_policy(service: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
        }],
    })
    .to_string()
}

impl Iam {
    /// Creates a service's service-linked role.
    pub async fn create_service_linked_role(
        &self,
        tx: &mut Tx,
        r: &CreateServiceLinkedRole,
    ) -> Result<Role, IamError> {
        let name = role_name(&r.service, r.suffix.as_deref());
        let name = Name::parse("RoleName", &name, NameKind::Role).map_err(|_| {
            IamError::invalid_input(format!(
                "The service-linked role's name {name} is longer than 64 characters: use a shorter CustomSuffix"
            ))
        })?;
        if self.find_role(tx, &name).await?.is_some() {
            return Err(IamError::invalid_input(format!(
                "Service role name {name} has been taken in this account, please try a different suffix."
            )));
        }
        let trust = PolicyDocument::parse(
            "AssumeRolePolicyDocument",
            &trust_policy(&r.service),
            PolicyType::Trust,
        )?;
        let create = CreateRole {
            name,
            path: role_path(&r.service),
            trust,
            description: r.description.clone(),
            max_session_duration: DEFAULT_MAX_SESSION_DURATION,
            boundary: None,
            tags: Vec::new(),
        };
        self.create_role_as(tx, &create, None, true).await
    }

    /// Deletes a service-linked role with its policies and answers the deletion task's id
    /// (`task/aws-service-role/SERVICE/NAME/ID`).
    pub async fn delete_service_linked_role(
        &self,
        tx: &mut Tx,
        name: &Name,
    ) -> Result<String, IamError> {
        let role = self.role(tx, name).await?;
        if !role.service_linked {
            return Err(IamError::invalid_input(format!(
                "Role {} is not a service-linked role: delete it with DeleteRole",
                role.name
            )));
        }
        for sql in [
            "DELETE FROM iam_inline_policies WHERE owner_kind = 'role' AND owner_id = $1",
            "DELETE FROM iam_attachments WHERE owner_kind = 'role' AND owner_id = $1",
            "DELETE FROM iam_instance_profile_roles WHERE role_id = $1",
        ] {
            sqlx::query(sql)
                .bind(&role.id)
                .execute(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        }
        self.remove_role(tx, &role).await?;
        let service = role
            .path
            .as_str()
            .strip_prefix("/aws-service-role/")
            .and_then(|p| p.strip_suffix('/'))
            .unwrap_or("unknown");
        let task = format!(
            "task/aws-service-role/{service}/{}/{}",
            role.name,
            crate::new_id("")?.to_ascii_lowercase()
        );
        sqlx::query(
            "INSERT INTO iam_service_linked_role_deletions (task_id, role_name, created_at) VALUES ($1, $2, $3)",
        )
        .bind(&task)
        .bind(role.name.as_str())
        .bind(now())
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(task)
    }

    /// The status of a deletion task this database started.
    pub async fn service_linked_role_deletion_status(
        &self,
        tx: &mut Tx,
        task: &str,
    ) -> Result<DeletionStatus, IamError> {
        if !task.starts_with("task/aws-service-role/") {
            return Err(IamError::invalid_input(format!(
                "{task} is not a deletion task id: they begin task/aws-service-role/"
            )));
        }
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT role_name FROM iam_service_linked_role_deletions WHERE task_id = $1",
        )
        .bind(task)
        .fetch_optional(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        match row {
            Some(_) => Ok(DeletionStatus::Succeeded),
            None => Err(IamError::no_such_entity(format!(
                "Deletion task {task} cannot be found."
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_aws_gives_them() {
        assert_eq!(
            role_name("elasticbeanstalk.amazonaws.com", None),
            "AWSServiceRoleForElasticBeanstalk"
        );
        assert_eq!(
            role_name("autoscaling.amazonaws.com", Some("web")),
            "AWSServiceRoleForAutoScaling_web"
        );
        assert_eq!(
            role_name("compute-optimizer.amazonaws.com", None),
            "AWSServiceRoleForComputeOptimizer"
        );
        assert!(parse_service_name("AWSServiceName", "elasticbeanstalk.amazonaws.com").is_ok());
        for bad in [
            "elasticbeanstalk",
            ".amazonaws.com",
            "x..amazonaws.com",
            "a b.amazonaws.com",
        ] {
            assert!(parse_service_name("AWSServiceName", bad).is_err(), "{bad}");
        }
        assert_eq!(
            role_path("rds.amazonaws.com").as_str(),
            "/aws-service-role/rds.amazonaws.com/"
        );
    }
}
