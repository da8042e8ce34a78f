export { CEREMONY_PTAU_SOURCE, CEREMONY_PTAUS, type CeremonyPtau, ceremonyPtau } from "./ceremony-ptau.js";
export {
  type ContributedZkey,
  type ContributeZkeyParams,
  contributeZkey,
  MAX_CONTRIBUTION_NAME,
} from "./contribute-zkey.js";
export { type EnsureDevPtauParams, ensureDevPtau, MAX_DEV_PTAU_POWER } from "./dev-ptau.js";
export { type DevZkey, type WriteDevZkeyParams, writeDevZkey } from "./dev-zkey.js";
export { findPtauByHash, inspectPtau, type PtauInfo } from "./inspect-ptau.js";
export {
  DEV_CONTRIBUTION_NAME,
  type WriteDevPtauParams,
  type WriteDevPtauResult,
  writeDevPtau,
} from "./ptau-writer.js";
export {
  type VerifyZkeyParams,
  verifyZkey,
  type ZkeyContribution,
  type ZkeyVerification,
} from "./verify-zkey.js";
