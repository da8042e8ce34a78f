import { intAttr } from "../onnx-tensor.js";
import type { OnnxOpTranslator } from "./op-translator.js";

/**
 * `Gather(table, ids)` of a constant `[vocab, dim]` table's rows at the model's integer input (PyTorch's
 * `nn.Embedding`): a tfjs Embedding as the first layer, `[N, L]` ids → `[N, L, dim]`. The model's input is then the
 * ids themselves (quantized with no fraction bits), so the input commitment covers them, and an id outside
 * `[0, vocab)` is refused (`INVALID_INPUT`) by the integer lookup. With constant ids, Gather is folded instead.
 */
export const gather: OnnxOpTranslator = {
  translate: (node, state) => {
    const live = state.live;
    if (live.layout !== "ids" || node.input[1] !== live.name || state.steps.length > 0) {
      throw state.refuse(
        node,
        "only a lookup of the model's integer input (token ids) in a constant table is supported",
      );
    }
    const table = state.requireConst(node, 0, "the table");
    const axis = intAttr(node, "axis", 0);
    if (table.dims.length !== 2 || (axis !== 0 && axis !== -2)) {
      throw state.refuse(node, "only rows of a 2-D [vocab, dim] table (axis 0) are looked up");
    }
    const [vocab, dim] = table.dims as [number, number];
    const [n, length] = live.shape as [number, number];
    state.pushStep({
      kind: "embedding",
      name: node.name,
      inputDim: vocab,
      outputDim: dim,
      inputLength: length,
      table: Float32Array.from(table.data),
    });
    state.live = { name: live.name, shape: [n, length, dim], layout: "seq" };
    return undefined;
  },
};
