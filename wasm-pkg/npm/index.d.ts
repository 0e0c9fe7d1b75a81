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
export type * from "./dist/iamlet_js.js";
