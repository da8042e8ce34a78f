import { z } from "zod";

/** A bigint written as a decimal string (how quantized networks are stored). */
export const bigintString = z
  .string()
  .regex(/^-?\d+$/, "must be a decimal integer")
  .transform((s) => BigInt(s));
/** An integer. */
export const int = z.number().int();
/** A (height, width) pair of positive integers. */
export const pairSchema = z.tuple([int.positive(), int.positive()]);
/** A channels-last shape. */
export const shape3Schema = z.tuple([int.positive(), int.positive(), int.positive()]);
