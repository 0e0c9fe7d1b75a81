// The playground: policy tabs with editors, the request form, the decision and its explanation, and
// the table of many requests, all evaluated in the page by the engine's WebAssembly build. This module
// only puts the parts together; each owns its state and its part of the page.
import "./style.css";
import { version } from "@iamlet/engine";
import { BatchTable } from "./batch";
import { byId } from "./dom";
import { evaluate } from "./evaluate";
import { DEFAULT_EXAMPLE, exampleState } from "./examples";
import { Gallery } from "./gallery";
import { RequestForm } from "./request";
import { RisksPanel } from "./risks";
import { Session } from "./session";
import { setUpShareButton } from "./share";
import type { State } from "./state";
import { PolicyTabs } from "./tabs";

const session = new Session(() => evaluate(view), load);
const tabs = new PolicyTabs(session);
const form = new RequestForm(byId("request-form"), () => session.changed());
const batch = new BatchTable(
  byId("batch"),
  () => session.changed(),
  // "Explain" on a row: the row's action and resource into the form, decided at once.
  (row) => {
    session.state.request.action = row.action;
    session.state.request.resource = row.resource;
    form.render(session.state.request);
    evaluate(view);
    session.changedQuietly();
    byId("result-heading").scrollIntoView({ block: "nearest", behavior: "smooth" });
  },
  () => ({ action: session.state.request.action, resource: session.state.request.resource }),
);
const view = { session, tabs, form, batch };
const gallery = new Gallery(
  (example) => void session.open(exampleState(example)),
  () => session.state.example,
);
setUpShareButton(() => session.save());
new RisksPanel();

/** Shows a whole new state: a link's, a saved one, or an example's. */
function load(next: State): void {
  session.state = next;
  tabs.reset();
  form.render(next.request);
  batch.render(next.batch);
  gallery.showBlurb(next.example);
  tabs.activate(next.active);
  evaluate(view);
}

byId("engine-version").textContent = `iamlet-engine ${version()}`;
await session.start(() => exampleState(DEFAULT_EXAMPLE));
document.documentElement.dataset.ready = "true";

if (import.meta.env.PROD && "serviceWorker" in navigator) {
  navigator.serviceWorker.register("./sw.js").catch(() => {
    // Offline use is a convenience: the page works online without it.
  });
}
