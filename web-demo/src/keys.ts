// Condition keys offered as suggestions in the context table: AWS's global condition keys, and every
// key the current policies mention.

export const GLOBAL_KEYS: [key: string, hint: string][] = [
  ["aws:CalledVia", "services that made the request on the principal's behalf (multivalued)"],
  ["aws:CalledViaFirst", "the first service in the chain"],
  ["aws:CalledViaLast", "the last service in the chain"],
  ["aws:CurrentTime", "date and time of the request (ISO 8601)"],
  ["aws:EpochTime", "date and time of the request (seconds since 1970)"],
  ["aws:FederatedProvider", "the identity provider of a federated principal"],
  ["aws:MultiFactorAuthAge", "seconds since the MFA sign-in"],
  ["aws:MultiFactorAuthPresent", "true when the session was signed in with MFA"],
  ["aws:PrincipalAccount", "the principal's account (derived from the principal)"],
  ["aws:PrincipalArn", "the principal's ARN (derived from the principal)"],
  ["aws:PrincipalIsAWSService", "true for a service principal"],
  ["aws:PrincipalOrgID", "the principal's organization"],
  ["aws:PrincipalOrgPaths", "the principal's organization paths (multivalued)"],
  ["aws:PrincipalServiceName", "the calling service principal"],
  ["aws:PrincipalTag/", "a tag of the principal: use the tags table above"],
  ["aws:PrincipalType", "Account, User, FederatedUser, AssumedRole or Anonymous"],
  ["aws:Referer", "the HTTP referer"],
  ["aws:RequestedRegion", "the region the request goes to"],
  ["aws:RequestTag/", "a tag in the request"],
  ["aws:ResourceAccount", "the resource's account"],
  ["aws:ResourceOrgID", "the resource's organization"],
  ["aws:ResourceOrgPaths", "the resource's organization paths (multivalued)"],
  ["aws:ResourceTag/", "a tag of the resource"],
  ["aws:SecureTransport", "true when the request used TLS"],
  ["aws:SourceAccount", "the account of the resource that made a service-to-service request"],
  ["aws:SourceArn", "the ARN of the resource that made a service-to-service request"],
  ["aws:SourceIdentity", "the source identity set when the role was assumed"],
  ["aws:SourceIp", "the requester's IP address"],
  ["aws:SourceOrgID", "the organization of the source resource"],
  ["aws:SourceOrgPaths", "the organization paths of the source resource"],
  ["aws:SourceVpc", "the VPC of the endpoint the request came through"],
  ["aws:SourceVpce", "the VPC endpoint the request came through"],
  ["aws:TagKeys", "the tag keys in the request (multivalued)"],
  ["aws:TokenIssueTime", "when the temporary credentials were issued"],
  ["aws:UserAgent", "the requester's client application"],
  ["aws:userid", "the principal's unique id"],
  ["aws:username", "the IAM user's name (derived from the principal)"],
  ["aws:ViaAWSService", "true when an AWS service made the request on the principal's behalf"],
  ["aws:VpcSourceIp", "the requester's IP address inside a VPC"],
];

/** Condition keys used in the `Condition` blocks of policy texts (those that parse). */
export function keysInPolicies(texts: string[]): string[] {
  const keys = new Set<string>();
  for (const text of texts) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      continue;
    }
    const statements = (doc as { Statement?: unknown })?.Statement;
    for (const s of Array.isArray(statements) ? statements : [statements]) {
      const condition = (s as { Condition?: unknown } | undefined)?.Condition;
      if (!condition || typeof condition !== "object") continue;
      for (const block of Object.values(condition)) {
        if (block && typeof block === "object") for (const key of Object.keys(block)) keys.add(key);
      }
    }
  }
  return [...keys].sort();
}
