// End-to-end tests of the built playground in Debian's headless Chromium (playwright-core): the first
// visit, the gallery, editing, error markers, share links, reloads, the dark theme, offline use and
// the keyboard. Each test saves a screenshot under test-artifacts/.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, screenshot, serve } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await serve();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** A fresh context (empty storage) with the playground loaded; `foreign` collects requests that leave it. */
async function open(t, { path = "", ...options } = {}) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: "light", ...options });
  t.after(() => context.close());
  const page = await context.newPage();
  const errors = [];
  const foreign = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("request", (r) => {
    if (!r.url().startsWith(server.url) && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  await page.goto(server.url + path);
  await page.waitForSelector("html[data-ready]");
  return { context, page, errors, foreign };
}

const decisionOf = (page) => page.getByTestId("decision").textContent();

async function expectDecision(page, expected) {
  try {
    await page.waitForFunction((v) => document.querySelector("[data-testid=decision]")?.textContent === v, expected, {
      timeout: 5000,
    });
  } catch {
    assert.equal(await decisionOf(page), expected);
  }
}

const activeEditor = (page) => page.locator(".editor:not([hidden]) .cm-content");
const editorLine = (page, n) => page.locator(".editor:not([hidden]) .cm-line").nth(n - 1);

test("opens on an example with its decision already shown", async (t) => {
  const { page, errors, foreign } = await open(t);
  assert.equal(await decisionOf(page), "Allow");
  assert.match(await page.locator("#summary").textContent(), /ReadWriteOwnPrefix/);
  // The deciding statement is highlighted in its editor: lines 11 to 16 of the first policy.
  assert.equal(await page.locator(".editor:not([hidden]) .cm-line.cm-deciding-allow").count(), 6);
  assert.match(await editorLine(page, 12).textContent(), /ReadWriteOwnPrefix/);
  assert.deepEqual(await page.getByTestId("batch-decision").allTextContents(), ["Allow", "ImplicitDeny", "ExplicitDeny", "ImplicitDeny"]);
  assert.equal(await page.getByRole("tab").count(), 3);
  await screenshot(page, "01-first-visit");
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, [], "no request leaves the page's own origin");
});

test("the gallery's examples each show their stated decision", async (t) => {
  const { page, errors } = await open(t);
  await page.getByRole("button", { name: "Examples" }).click();
  const cards = page.locator("#gallery .card");
  const count = await cards.count();
  assert.ok(count >= 10, `at least ten examples (${count})`);
  await screenshot(page, "02-gallery");
  await page.keyboard.press("Escape");
  for (let i = 0; i < count; i++) {
    await page.getByRole("button", { name: "Examples" }).click();
    const card = cards.nth(i);
    const expected = await card.locator(".badge").textContent();
    const title = await card.locator(".card-title").textContent();
    await card.click();
    await expectDecision(page, expected);
    assert.equal(await page.locator("#example-blurb strong").textContent(), title);
    if (expected !== "ImplicitDeny") {
      assert.ok((await page.locator(".cm-deciding").count()) > 0, `${title}: the deciding statement is highlighted`);
    }
  }
  // ABAC for the picture; then Back returns to the example opened before it.
  await page.getByRole("button", { name: "Examples" }).click();
  await page.locator('#gallery [data-example="abac"]').click();
  await expectDecision(page, "Allow");
  await screenshot(page, "02-example-abac");
  await page.goBack();
  await page.waitForFunction(() => document.querySelector("#example-blurb strong")?.textContent !== "ABAC with principal and resource tags");
  assert.deepEqual(errors, []);
});

test("editing a policy flips the decision, and undo flips it back", async (t) => {
  const { page } = await open(t);
  assert.equal(await decisionOf(page), "Allow");
  // Line 13 is `"Effect": "Allow",` of ReadWriteOwnPrefix: turn it into a Deny with real keystrokes.
  assert.match(await editorLine(page, 13).textContent(), /"Effect": "Allow",/);
  await editorLine(page, 13).click();
  await page.keyboard.press("End");
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("ArrowLeft");
  for (let i = 0; i < 5; i++) await page.keyboard.press("Backspace");
  await page.keyboard.type("Deny");
  await expectDecision(page, "ExplicitDeny");
  assert.match(await page.locator("#summary").textContent(), /explicitly denied by statement ReadWriteOwnPrefix/i);
  assert.equal(await page.locator(".editor:not([hidden]) .cm-line.cm-deciding-deny").count(), 6);
  await screenshot(page, "03-edit-flips-decision");
  await page.keyboard.press("Control+z");
  await expectDecision(page, "Allow");
});

test("broken JSON gets an error marker at the engine's line and column", async (t) => {
  const { page } = await open(t);
  // Delete the comma after `"Effect": "Allow"` on line 6: the engine expects it at 6:24.
  await editorLine(page, 6).click();
  await page.keyboard.press("End");
  await page.keyboard.press("Backspace");
  await expectDecision(page, "Error");
  const marker = page.locator(".editor:not([hidden]) .cm-lintRange-error");
  await marker.first().waitFor();
  // The marker sits on line 6, where the engine reports the problem.
  const line = await marker.first().evaluate((el) => {
    const lines = [...document.querySelectorAll(".editor:not([hidden]) .cm-line")];
    return lines.indexOf(el.closest(".cm-line")) + 1;
  });
  assert.equal(line, 6);
  const problem = await page.locator("#problems .problem").first().textContent();
  assert.equal(problem, "developer 6:24: invalid JSON: expected comma");
  assert.equal(await page.locator("#tab-0 .tab-problems").textContent(), "1");
  assert.deepEqual(await page.getByTestId("batch-decision").allTextContents(), ["—", "—", "—", "—"]);
  await marker.first().hover();
  await page.locator(".cm-tooltip-lint").waitFor();
  assert.match(await page.locator(".cm-tooltip-lint").textContent(), /6:24: invalid JSON: expected comma/);
  await screenshot(page, "04-broken-json");
  // Typing the comma back restores the decision.
  await page.keyboard.type(",");
  await expectDecision(page, "Allow");
  assert.equal(await page.locator(".editor:not([hidden]) .cm-lintRange-error").count(), 0);
});

test("lint findings: inline diagnostics and a list that leads to each element", async (t) => {
  const { page } = await open(t);
  await page.locator("#add-policy").click();
  await activeEditor(page).click();
  await page.keyboard.press("Control+a");
  await page.keyboard.insertText(
    '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {\n      "Effect": "Allow",\n      "Action": ["iam:PassRole", "s3:GetObjekt"],\n      "Resource": "*"\n    }\n  ]\n}',
  );
  const passRole = page.locator('#findings [data-code="pass_role_with_star"]');
  await passRole.waitFor();
  assert.match(await passRole.textContent(), /security warning \[pass_role_with_star\] Statement\[0\]\.Resource: /);
  assert.match(await page.locator('#findings [data-code="unknown_action"]').textContent(), /error \[unknown_action\] .*s3:GetObjekt/);
  // The policy still parses: findings are not problems, and the decision is still given.
  assert.equal(await page.locator("#problems .problem").count(), 0);
  assert.notEqual(await decisionOf(page), "Error");
  // Inline: the unknown action underlined as an error on line 6, PassRole on `*` as a warning.
  const lineOf = (selector) =>
    page.locator(selector).first().evaluate((el) => {
      const lines = [...document.querySelectorAll(".editor:not([hidden]) .cm-line")];
      return lines.indexOf(el.closest(".cm-line")) + 1;
    });
  await page.locator(".editor:not([hidden]) .cm-lintRange-warning").first().waitFor();
  assert.equal(await lineOf(".editor:not([hidden]) .cm-lintRange-error"), 6);
  assert.equal(await lineOf(".editor:not([hidden]) .cm-lintRange-warning"), 7);
  await screenshot(page, "04b-lint-findings");
  // Fixing the typo removes its finding.
  await editorLine(page, 6).click();
  await page.keyboard.press("End");
  // Before the closing quote of "s3:GetObjekt": "kt" becomes "ct".
  for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowLeft");
  for (let i = 0; i < 2; i++) await page.keyboard.press("Backspace");
  await page.keyboard.type("ct");
  await page.waitForFunction(() => !document.querySelector('#findings [data-code="unknown_action"]'));
  assert.equal(await passRole.count(), 1);
});

test("action names complete from the catalog, with their access levels", async (t) => {
  const { page } = await open(t);
  await page.locator("#add-policy").click();
  await activeEditor(page).click();
  await page.keyboard.press("Control+a");
  await page.keyboard.insertText('{\n  "Version": "2012-10-17",\n  "Statement": [\n    {\n      "Effect": "Allow",\n      "Action": "",\n      "Resource": "*"\n    }\n  ]\n}');
  // Into the empty Action string on line 6, and type a prefix.
  await editorLine(page, 6).click();
  await page.keyboard.press("End");
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.type("s3:GetObjectT");
  const list = page.locator(".cm-tooltip-autocomplete");
  await list.waitFor();
  const labels = await list.locator(".cm-completionLabel").allTextContents();
  assert.ok(labels.includes("s3:GetObjectTagging"), labels.join());
  assert.ok(labels.every((l) => l.startsWith("s3:GetObjectT")), labels.join());
  assert.match(await list.textContent(), /Read/);
  await screenshot(page, "04c-action-completion");
  // Accepting writes the full name into the policy.
  await list.locator("li", { hasText: "s3:GetObjectTagging" }).first().click();
  assert.match(await editorLine(page, 6).textContent(), /"Action": "s3:GetObjectTagging"/);
  // Outside Action values nothing is offered.
  await editorLine(page, 7).click();
  await page.keyboard.press("End");
  await page.keyboard.press("ArrowLeft");
  await page.keyboard.type("s3:Get");
  await page.waitForTimeout(300);
  assert.equal(await page.locator(".cm-tooltip-autocomplete").count(), 0);
});

test("a share link restores the whole state in a fresh browser", async (t) => {
  const { page } = await open(t);
  await page.getByLabel("Action", { exact: true }).fill("s3:DeleteObject");
  await expectDecision(page, "ExplicitDeny");
  await page.getByRole("button", { name: "+ Row" }).click();
  await page.getByLabel("Action of row 5").fill("s3:PutObject");
  await page.getByLabel("Resource of row 5").fill("arn:aws:s3:::amzn-s3-demo-bucket/home/alice/new.txt");
  await page.locator("#tab-2").click();
  await page.getByRole("button", { name: "Share" }).click();
  // The link is ready once the popover shows (compression is asynchronous).
  await page.locator("#share-popover").waitFor({ state: "visible" });
  const link = await page.locator("#share-url").inputValue();
  assert.match(link, /#s=[A-Za-z0-9_-]+$/);
  await screenshot(page, "05-share-popover");

  const other = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  t.after(() => other.close());
  const restored = await other.newPage();
  await restored.goto(link);
  await restored.waitForSelector("html[data-ready]");
  await expectDecision(restored, "ExplicitDeny");
  assert.equal(await restored.getByLabel("Action", { exact: true }).inputValue(), "s3:DeleteObject");
  assert.equal(await restored.getByLabel("Action of row 5").inputValue(), "s3:PutObject");
  assert.deepEqual(await restored.getByTestId("batch-decision").allTextContents(), ["Allow", "ImplicitDeny", "ExplicitDeny", "ImplicitDeny", "Allow"]);
  assert.equal(await restored.locator("#tab-2").getAttribute("aria-selected"), "true");
  await screenshot(restored, "05-share-restored");
});

test("the state survives a reload (localStorage)", async (t) => {
  const { page } = await open(t);
  await page.getByLabel("Resource", { exact: true }).fill("arn:aws:s3:::amzn-s3-demo-bucket/home/bob/notes.txt");
  await expectDecision(page, "ImplicitDeny");
  // The bare address, without the fragment, at once: the state comes from localStorage (saved on
  // the way out at the latest).
  await page.goto(server.url);
  await page.waitForSelector("html[data-ready]");
  await expectDecision(page, "ImplicitDeny");
  assert.equal(await page.getByLabel("Resource", { exact: true }).inputValue(), "arn:aws:s3:::amzn-s3-demo-bucket/home/bob/notes.txt");
  await screenshot(page, "06-after-reload");
});

test("context keys: single and multiple values, global keys suggested", async (t) => {
  const { page } = await open(t);
  // MFA present: deleting in the home prefix is no longer denied (batch row 3).
  await page.locator(".ctx-row").nth(2).locator(".ctx-value").fill("true");
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=batch-decision]")[2]?.textContent === "Allow");
  const suggestions = await page.locator("#condition-keys option").evaluateAll((os) => os.map((o) => o.value));
  for (const key of ["aws:SourceIp", "aws:CurrentTime", "aws:PrincipalOrgID", "s3:prefix"]) assert.ok(suggestions.includes(key), key);

  await page.getByRole("button", { name: "Examples" }).click();
  await page.locator('#gallery [data-example="tag-on-create"]').click();
  await expectDecision(page, "Allow");
  const tagKeys = page.locator(".ctx-row").nth(1);
  assert.equal(await tagKeys.locator("input[type=checkbox]").isChecked(), true);
  await tagKeys.locator(".ctx-value").fill("owner, project, cost-center");
  await expectDecision(page, "ImplicitDeny");
  assert.match(await page.locator(".statements").textContent(), /ForAllValues:StringEquals/);
  await screenshot(page, "07-multivalued-context");
});

test("dark theme follows the system", async (t) => {
  const { page } = await open(t, { colorScheme: "dark" });
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const [r, g, b] = bg.match(/\d+/g).map(Number);
  assert.ok(r + g + b < 120, `a dark background (${bg})`);
  await screenshot(page, "08-dark-theme");
});

test("works offline once loaded", async (t) => {
  const { context, page, errors } = await open(t);
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  // The first visit is not yet controlled; once the worker has cached everything, go offline.
  await context.setOffline(true);
  await page.reload();
  await page.waitForSelector("html[data-ready]");
  await expectDecision(page, "Allow");
  await page.getByLabel("Action", { exact: true }).fill("ec2:RunInstances");
  await expectDecision(page, "ImplicitDeny");
  await screenshot(page, "09-offline");
  assert.deepEqual(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED/.test(e)), []);
});

test("usable with the keyboard", async (t) => {
  const { page } = await open(t);
  await page.locator("#tab-0").focus();
  await page.keyboard.press("ArrowRight");
  assert.equal(await page.locator("#tab-1").getAttribute("aria-selected"), "true");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "tab-1");
  await page.keyboard.press("End");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "tab-2");
  // Tab from the tab list reaches the policy's fields, and the editor lets Tab move on.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.id), "add-policy");
  // The gallery opens from the keyboard and closes with Escape.
  await page.getByRole("button", { name: "Examples" }).focus();
  await page.keyboard.press("Enter");
  assert.equal(await page.locator("#gallery").evaluate((d) => d.open), true);
  await page.keyboard.press("Escape");
  assert.equal(await page.locator("#gallery").evaluate((d) => d.open), false);
  await activeEditor(page).focus();
  await page.keyboard.press("Tab");
  assert.notEqual(await page.evaluate(() => document.activeElement?.className), "cm-content");
  await screenshot(page, "10-keyboard");
});

test("the Risks panel shows a pasted account export's escalation paths", async (t) => {
  const { readFileSync } = await import("node:fs");
  const account = readFileSync(new URL("../../examples/escalation/account.json", import.meta.url), "utf8");
  const { page, errors, foreign } = await open(t);
  await page.getByRole("button", { name: "Risks" }).click();
  await page.locator("#risks-input").fill(account);
  await page.getByRole("button", { name: "Find escalation paths" }).click();
  await page.waitForSelector("[data-testid=risks-summary]");
  assert.equal(
    await page.getByTestId("risks-summary").textContent(),
    "30 principals can escalate to administrator. 10 already are.",
  );
  const chain = page.locator('[data-principal="arn:aws:iam::111122223333:user/u-chain"]');
  const steps = await chain.getByTestId("risk-step").allTextContents();
  assert.equal(steps.length, 3);
  assert.match(steps[0], /user\/u-chain → sts:AssumeRole on arn:aws:iam::111122223333:role\/role-a/);
  assert.match(steps[1], /role\/role-a → iam:AttachRolePolicy on arn:aws:iam::111122223333:role\/role-b/);
  assert.match(steps[2], /allowed by Statement\[0\] of trust policy role\/role-b:trust/);
  // A condition the account cannot decide is shown as "if".
  const ip = page.locator('[data-principal="arn:aws:iam::111122223333:user/u-source-ip"]');
  assert.match(await ip.locator(".risk-if").textContent(), /if aws:SourceIp IpAddress 203\.0\.113\.0\/24/);
  // Near misses are not listed.
  assert.equal(await page.locator('[data-principal="arn:aws:iam::111122223333:user/n-boundary"]').count(), 0);
  await screenshot(page, "risks");
  // A broken export is an error naming the place, not a blank panel.
  await page.locator("#risks-input").fill('{"UserDetailList": [{"UserName": 5}]}');
  await page.getByRole("button", { name: "Find escalation paths" }).click();
  assert.match(await page.getByTestId("risks-error").textContent(), /UserDetailList\[0\]/);
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
});
