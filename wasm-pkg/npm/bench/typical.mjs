// The typical principal of the Rust benchmarks, for the Node benchmarks: 5 identity policies of 4
// statements (20 in all), every other one with conditions on a principal tag and the source address.
const services = ["s3", "ec2", "dynamodb", "sqs", "sns", "lambda", "kms", "logs"];
const policy = (n, seed) => ({
  policyType: "identity",
  document: {
    Version: "2012-10-17",
    Statement: Array.from({ length: n }, (_, i) => {
      const svc = services[(i + seed) % services.length];
      const s = { Sid: `S${i}`, Effect: "Allow", Action: [`${svc}:Get*`, `${svc}:List*`], Resource: `arn:aws:${svc}:*:111122223333:res${i}/*` };
      if (i % 2 === 0) s.Condition = { StringEquals: { "aws:PrincipalTag/team": ["payments", "search"] }, IpAddress: { "aws:SourceIp": "203.0.113.0/24" } };
      return s;
    }),
  },
});

/** The policies, as `new PolicySet(...)` takes them. */
export const typicalPolicies = () => [0, 1, 2, 3, 4].map((p) => policy(4, p));

/** A request they allow, with the two keys their conditions read. */
export const typicalRequest = () => ({
  principal: "arn:aws:iam::111122223333:user/alice",
  action: "s3:GetObject",
  resource: "arn:aws:s3:*:111122223333:res0/key",
  context: { "aws:PrincipalTag/team": "search", "aws:SourceIp": "203.0.113.10" },
});
