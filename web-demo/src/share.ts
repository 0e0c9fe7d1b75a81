// Share links: the state as JSON, compressed with the browser's own deflate-raw, in base64url, in the
// URL fragment (`#s=…`). The fragment never reaches a server.
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
