// A tiny element builder: h("button", { class: "x", onclick: f }, "text", child).

type Props = Record<string, unknown>;
export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value as EventListener);
    } else if (key === "class") {
      el.className = String(value);
    } else if (key === "value" || key === "checked") {
      (el as unknown as Record<string, unknown>)[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

/** A text input editing `target[key]` in place (no spellcheck), calling `changed` after each edit;
 * other attributes in `props`, as for `h`. */
export function textInput<K extends string>(target: Record<K, string>, key: K, props: Props, changed: () => void): HTMLInputElement {
  return h("input", {
    value: target[key],
    spellcheck: "false",
    ...props,
    oninput: (e: Event) => {
      target[key] = (e.target as HTMLInputElement).value;
      changed();
    },
  });
}

/** Text with `backticked` parts as <code>, the way the engine writes its messages. */
export function ticks(text: string): Node {
  const frag = document.createDocumentFragment();
  text.split(/(`[^`]*`)/).forEach((part) => {
    if (part.startsWith("`") && part.endsWith("`") && part.length >= 2) {
      frag.append(h("code", {}, part.slice(1, -1)));
    } else if (part) {
      frag.append(part);
    }
  });
  return frag;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}
