// The AWS SDK for JavaScript v3 (@aws-sdk/client-iam) against Iamlet's IAM API: users created,
// listed page by page with paginateListUsers, read back, and AWS's errors raised as the SDK's own
// exception classes. Started by tests/e2e/iam_js_test.py with the endpoint and a key in the
// environment (IAMLET_IAM_ENDPOINT, IAMLET_ACCESS_KEY_ID, IAMLET_SECRET_ACCESS_KEY).

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  IAMClient,
  CreateUserCommand,
  GetUserCommand,
  ListUsersCommand,
  TagUserCommand,
  ListUserTagsCommand,
  paginateListUsers,
  NoSuchEntityException,
  EntityAlreadyExistsException,
  IAMServiceException,
} from "@aws-sdk/client-iam";

const endpoint = process.env.IAMLET_IAM_ENDPOINT;
const account = process.env.IAMLET_ACCOUNT_ID;
assert.ok(endpoint, "IAMLET_IAM_ENDPOINT is not set");

const iam = new IAMClient({
  endpoint,
  region: "us-east-1",
  maxAttempts: 1,
  credentials: {
    accessKeyId: process.env.IAMLET_ACCESS_KEY_ID,
    secretAccessKey: process.env.IAMLET_SECRET_ACCESS_KEY,
  },
});

const names = ["js-ada", "js-alan", "js-barbara", "js-dennis", "js-edsger", "js-grace", "js-ken"];

test("creates users", async () => {
  for (const name of names) {
    const path = name.startsWith("js-a") ? "/pioneers/" : "/";
    const out = await iam.send(new CreateUserCommand({ UserName: name, Path: path }));
    assert.equal(out.User.UserName, name);
    assert.equal(out.User.Path, path);
    assert.equal(out.User.Arn, `arn:aws:iam::${account}:user${path}${name}`);
    assert.match(out.User.UserId, /^AIDA[A-Z0-9]{17}$/);
    assert.ok(out.User.CreateDate instanceof Date);
  }
});

test("lists users page by page with paginateListUsers", async () => {
  const seen = [];
  let pages = 0;
  for await (const page of paginateListUsers({ client: iam, pageSize: 2 }, {})) {
    pages += 1;
    assert.ok(page.Users.length <= 2);
    seen.push(...page.Users.map((u) => u.UserName));
  }
  const ours = seen.filter((n) => n.startsWith("js-"));
  assert.deepEqual(ours, [...names].sort());
  assert.equal(pages, Math.ceil(seen.length / 2));
  // One page: the marker, and IsTruncated.
  const first = await iam.send(new ListUsersCommand({ MaxItems: 3 }));
  assert.equal(first.IsTruncated, true);
  assert.ok(first.Marker);
  const next = await iam.send(new ListUsersCommand({ MaxItems: 3, Marker: first.Marker }));
  assert.notEqual(next.Users[0].UserName, first.Users[2].UserName);
  // A path prefix.
  const pioneers = await iam.send(new ListUsersCommand({ PathPrefix: "/pioneers/" }));
  assert.deepEqual(pioneers.Users.map((u) => u.UserName), ["js-ada", "js-alan"]);
});

test("reads a user and its tags", async () => {
  await iam.send(new TagUserCommand({ UserName: "js-grace", Tags: [{ Key: "team", Value: "compilers" }] }));
  const out = await iam.send(new GetUserCommand({ UserName: "JS-GRACE" }));
  assert.equal(out.User.UserName, "js-grace");
  assert.deepEqual(out.User.Tags, [{ Key: "team", Value: "compilers" }]);
  const tags = await iam.send(new ListUserTagsCommand({ UserName: "js-grace" }));
  assert.deepEqual(tags.Tags, [{ Key: "team", Value: "compilers" }]);
});

test("AWS's errors are the SDK's exception classes", async () => {
  await assert.rejects(iam.send(new GetUserCommand({ UserName: "js-nobody" })), (e) => {
    assert.ok(e instanceof NoSuchEntityException, `${e.name}: ${e.message}`);
    assert.ok(e instanceof IAMServiceException);
    assert.equal(e.name, "NoSuchEntityException");
    assert.equal(e.message, "The user with name js-nobody cannot be found.");
    assert.equal(e.$metadata.httpStatusCode, 404);
    assert.ok(e.$metadata.requestId);
    return true;
  });
  await assert.rejects(iam.send(new CreateUserCommand({ UserName: "js-ada" })), (e) => {
    assert.ok(e instanceof EntityAlreadyExistsException, `${e.name}: ${e.message}`);
    assert.equal(e.$metadata.httpStatusCode, 409);
    return true;
  });
});
