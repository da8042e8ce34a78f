// One spelling of a number across the wire formats (issue 20): receipts, manifests, keys, calldata and salts
// read decimals with one rule, DECIMAL_STRING, so none accepts a second spelling another refuses.
import { describe, expect, it } from "vitest";
import { groth16Calldata } from "../../src/proof-systems/proof-calldata.js";
import { DECIMAL_STRING, isDecimalString } from "../../src/util/field.js";

describe("DECIMAL_STRING", () => {
  it("accepts canonical non-negative decimals up to 78 digits", () => {
    for (const s of ["0", "7", "10", "1".repeat(78), (2n ** 256n - 1n).toString()])
      expect(isDecimalString(s), s).toBe(true);
  });

  it("refuses a second spelling: leading zeros, signs, exponents, blanks, 79 digits, non-strings", () => {
    for (const s of ["", "00", "01", "-1", "+1", "-0", "1e3", " 1", "1 ", "0x1", "1".repeat(79), "１"]) {
      expect(DECIMAL_STRING.test(s), JSON.stringify(s)).toBe(false);
    }
    for (const v of [1, 1n, null, undefined, ["1"]]) expect(isDecimalString(v)).toBe(false);
  });

  it("is what calldata reads: a proof coordinate with a leading zero is MALFORMED_RECEIPT", () => {
    const proof = {
      proof: {
        pi_a: ["1", "2", "1"],
        pi_b: [
          ["1", "2"],
          ["3", "4"],
          ["1", "0"],
        ],
        pi_c: ["5", "6", "1"],
      },
      publicSignals: ["1", "2", "3", "4"],
    };
    expect(groth16Calldata(proof as never).a).toEqual([1n, 2n]);
    const padded = { ...proof, proof: { ...proof.proof, pi_a: ["01", "2", "1"] } };
    expect(() => groth16Calldata(padded as never)).toThrow(expect.objectContaining({ code: "MALFORMED_RECEIPT" }));
  });
});
