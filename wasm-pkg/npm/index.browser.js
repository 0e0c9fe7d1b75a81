// Browser and bundler entry: fetches the WebAssembly next to this module, then re-exports the API.
import init from "./dist/iamlet_js.js";

await init({ module_or_path: new URL("./dist/iamlet_js_bg.wasm", import.meta.url) });

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
