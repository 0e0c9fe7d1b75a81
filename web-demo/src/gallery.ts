// The example gallery: a dialog of cards, one per example, and the title and blurb of the example
// the current state started from.
import { byId, h } from "./dom";
import { EXAMPLES, type Example } from "./examples";

export class Gallery {
  private readonly dialog = byId<HTMLDialogElement>("gallery");

  /** `open` loads an example picked; `current` is the id of the example shown now. */
  constructor(open: (example: Example) => void, current: () => string) {
    byId("gallery-list").replaceChildren(
      ...EXAMPLES.map((ex) =>
        h(
          "button",
          {
            type: "button",
            class: "card",
            "data-example": ex.id,
            onclick: () => {
              this.dialog.close();
              open(ex);
            },
          },
          h("span", { class: "card-title" }, ex.title),
          h("span", { class: "card-blurb" }, ex.blurb),
          h("span", { class: `badge small badge-${ex.expect.toLowerCase()}` }, ex.expect),
        ),
      ),
    );
    byId("examples-button").addEventListener("click", () => {
      this.dialog.showModal();
      this.dialog.querySelector<HTMLElement>(`[data-example="${current()}"]`)?.focus();
    });
    this.dialog.addEventListener("click", (e) => {
      if (e.target === this.dialog) this.dialog.close();
    });
  }

  /** Shows the title and blurb of the example `id` (nothing for a state of no example). */
  showBlurb(id: string): void {
    const example = EXAMPLES.find((e) => e.id === id);
    byId("example-blurb").replaceChildren(...(example ? [h("strong", {}, example.title), ". ", example.blurb] : []));
  }
}
