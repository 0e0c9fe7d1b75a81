export {
  PolicySet,
  validate,
  simulate,
  casePolicyInputs,
  version,
} from "./dist/iamlet_js.js";
export type * from "./dist/iamlet_js.js";
