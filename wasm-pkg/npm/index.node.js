// Node entry: loads the WebAssembly synchronously from the package itself, then re-exports the API.
import { readFileSync } from "node:fs";
import { initSync } from "./dist/iamlet_js.js";

initSync({ module: readFileSync(new URL("./dist/iamlet_js_bg.wasm", import.meta.url)) });

export {
  PolicySet,
  validate,
  simulate,
  casePolicyInputs,
  lint,
  diff,
  expandActions,
  checkPassword,
  version,
} from "./dist/iamlet_js.js";
