// The state being edited and where it is kept: an edit schedules an evaluation and a save (to
// localStorage and, without a history entry, to the URL fragment); a pasted link or Back loads the
// state its fragment holds.
import { decodeFragment, encodeFragment } from "./share";
import { loadLocal, saveLocal, type State } from "./state";

const EVALUATE_DELAY_MS = 150;
const SAVE_DELAY_MS = 400;

export class Session {
  state!: State;
  private evaluateTimer: number | undefined;
  private saveTimer: number | undefined;
  private saveSeq = 0;
  /** The fragment this page last wrote, so our own writes are not taken for a pasted link. */
  private ownFragment = "";

  /** `evaluate` runs a scheduled evaluation; `load` shows a whole new state. */
  constructor(
    private readonly evaluate: () => void,
    private readonly load: (state: State) => void,
  ) {
    // A reload or a closed tab within the save delay still keeps the last edit.
    window.addEventListener("pagehide", () => {
      if (this.state) saveLocal(this.state);
    });
    window.addEventListener("hashchange", async () => {
      if (location.hash === this.ownFragment) return;
      const next = await decodeFragment(location.hash);
      if (next) {
        this.ownFragment = location.hash;
        this.load(next);
        saveLocal(this.state);
      }
    });
  }

  /** An edit: evaluate soon, and save a little later. */
  changed(): void {
    clearTimeout(this.evaluateTimer);
    this.evaluateTimer = window.setTimeout(this.evaluate, EVALUATE_DELAY_MS);
    this.changedQuietly();
  }

  /** A change that needs saving but not evaluating (the active tab). */
  changedQuietly(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(() => void this.save(), SAVE_DELAY_MS);
  }

  /** An evaluation is running now: the scheduled one is not needed. */
  evaluating(): void {
    clearTimeout(this.evaluateTimer);
  }

  /** Writes the state to localStorage and to the URL fragment (without a history entry). */
  async save(): Promise<string> {
    clearTimeout(this.saveTimer);
    saveLocal(this.state);
    const seq = ++this.saveSeq;
    const fragment = await encodeFragment(this.state);
    if (seq === this.saveSeq) {
      this.ownFragment = fragment;
      history.replaceState(history.state, "", fragment);
    }
    return fragment;
  }

  /** Loads `state` as a new history entry (an example), so Back returns to what was there before. */
  async open(state: State): Promise<void> {
    this.load(state);
    const fragment = await encodeFragment(this.state);
    this.ownFragment = fragment;
    history.pushState(null, "", fragment);
    saveLocal(this.state);
  }

  /** Loads the first state: a link's, else the one saved in this browser, else `fallback`. */
  async start(fallback: () => State): Promise<void> {
    const fromLink = await decodeFragment(location.hash);
    this.load(fromLink ?? loadLocal() ?? fallback());
    if (fromLink) {
      this.ownFragment = location.hash;
      saveLocal(this.state);
    } else {
      void this.save();
    }
  }
}
