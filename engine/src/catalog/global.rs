//! AWS's global condition keys (`aws:…`), available in every service, with their types, as AWS's
//! "AWS global condition context keys" page lists them. The service tables of the generated data
//! leave them out so each appears once.

use super::{ConditionKey, KeyType};

const KEYS: &[(&str, KeyType)] = &[
    ("aws:AssumedRoot", KeyType::Bool),
    ("aws:CalledVia", KeyType::ArrayOfString),
    ("aws:CalledViaFirst", KeyType::String),
    ("aws:CalledViaLast", KeyType::String),
    ("aws:ChatbotSourceArn", KeyType::Arn),
    ("aws:CurrentTime", KeyType::Date),
    ("aws:Ec2InstanceSourcePrivateIPv4", KeyType::IpAddress),
    ("aws:Ec2InstanceSourceVpc", KeyType::String),
    ("aws:EpochTime", KeyType::DateOrNumeric),
    ("aws:FederatedProvider", KeyType::String),
    ("aws:MultiFactorAuthAge", KeyType::Numeric),
    ("aws:MultiFactorAuthPresent", KeyType::Bool),
    ("aws:PrincipalAccount", KeyType::String),
    ("aws:PrincipalArn", KeyType::Arn),
    ("aws:PrincipalIsAWSService", KeyType::Bool),
    ("aws:PrincipalOrgID", KeyType::String),
    ("aws:PrincipalOrgPaths", KeyType::ArrayOfString),
    ("aws:PrincipalServiceName", KeyType::String),
    ("aws:PrincipalServiceNamesList", KeyType::ArrayOfString),
    ("aws:PrincipalTag/${TagKey}", KeyType::String),
    ("aws:PrincipalType", KeyType::String),
    ("aws:Referer", KeyType::String),
    ("aws:RequestedRegion", KeyType::String),
    ("aws:RequestTag/${TagKey}", KeyType::String),
    ("aws:ResourceAccount", KeyType::String),
    ("aws:ResourceOrgID", KeyType::String),
    ("aws:ResourceOrgPaths", KeyType::ArrayOfString),
    ("aws:ResourceTag/${TagKey}", KeyType::String),
    ("aws:SecureTransport", KeyType::Bool),
    ("aws:SourceAccount", KeyType::String),
    ("aws:SourceArn", KeyType::Arn),
    ("aws:SourceIdentity", KeyType::String),
    ("aws:SourceIp", KeyType::IpAddress),
    ("aws:SourceOrgID", KeyType::String),
    ("aws:SourceOrgPaths", KeyType::ArrayOfString),
    ("aws:SourceVpc", KeyType::String),
    ("aws:SourceVpcArn", KeyType::Arn),
    ("aws:SourceVpce", KeyType::String),
    ("aws:TagKeys", KeyType::ArrayOfString),
    ("aws:TokenIssueTime", KeyType::Date),
    ("aws:UserAgent", KeyType::String),
    ("aws:userid", KeyType::String),
    ("aws:username", KeyType::String),
    ("aws:ViaAWSService", KeyType::Bool),
    ("aws:VpceAccount", KeyType::String),
    ("aws:VpceOrgID", KeyType::String),
    ("aws:VpceOrgPaths", KeyType::ArrayOfString),
    ("aws:VpcSourceIp", KeyType::IpAddress),
];

pub(super) fn keys() -> Vec<ConditionKey> {
    KEYS.iter()
        .map(|(name, t)| ConditionKey::new(name, *t))
        .collect()
}
