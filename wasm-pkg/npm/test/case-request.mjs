// A simulation case's request is in the `iamlet simulate` file format (snake_case keys, as the corpus
// is written); `PolicySet` takes the package's `RequestInput`, in camelCase.
export function requestInput({ resource_account, session_issuer, ...request }) {
  if (resource_account !== undefined) request.resourceAccount = resource_account;
  if (session_issuer !== undefined) request.sessionIssuer = session_issuer;
  return request;
}
