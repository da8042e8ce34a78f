/** A snarkjs logger that drops everything: snarkjs's verifiers log failures through console unless given one. */
export const QUIET_LOGGER = { debug() {}, info() {}, warn() {}, error() {} };
