// Share links: the state as JSON, compressed with the browser's own deflate-raw, in base64url, in the
// URL fragment (`#s=…`), and the Share button that hands the link out. The fragment never reaches a
// server.
import { byId } from "./dom";
import { coerceState, type State } from "./state";

const PREFIX = "#s=";

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const body = new Blob([bytes as BlobPart]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(body).arrayBuffer());
}

function toBase64url(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The URL fragment holding `state`. */
export async function encodeFragment(state: State): Promise<string> {
  const json = new TextEncoder().encode(JSON.stringify(state));
  return PREFIX + toBase64url(await pipe(json, new CompressionStream("deflate-raw")));
}

/** The state in a URL fragment, or null when it holds none (or a damaged one). */
export async function decodeFragment(fragment: string): Promise<State | null> {
  if (!fragment.startsWith(PREFIX)) return null;
  try {
    const json = await pipe(fromBase64url(fragment.slice(PREFIX.length)), new DecompressionStream("deflate-raw"));
    return coerceState(JSON.parse(new TextDecoder().decode(json)));
  } catch {
    return null;
  }
}

/** The Share button: saves the state (`save` resolves once the fragment holds it), then shows the
 * link in a popover and copies it. */
export function setUpShareButton(save: () => Promise<unknown>): void {
  const popover = byId("share-popover");
  const input = byId<HTMLInputElement>("share-url");
  const status = byId("share-status");
  const button = byId("share-button");
  button.addEventListener("click", async () => {
    await save();
    input.value = location.href;
    popover.hidden = false;
    input.focus();
    input.select();
    try {
      await navigator.clipboard.writeText(location.href);
      status.textContent = "Link copied. It holds the policies and the request; nothing is uploaded.";
    } catch {
      status.textContent = "Copy the link above. It holds the policies and the request; nothing is uploaded.";
    }
  });
  const close = () => {
    popover.hidden = true;
  };
  popover.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      close();
      button.focus();
    }
  });
  document.addEventListener("pointerdown", (e) => {
    if (!popover.hidden && !popover.contains(e.target as Node) && e.target !== button) close();
  });
}
