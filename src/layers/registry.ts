import type { QuantizedLayer, QuantizedLayerKind } from "../models/quantized-network.js";
import { addModule } from "./add.js";
import { concatModule } from "./concat.js";
import { conv2dModule } from "./conv2d.js";
import { denseModule } from "./dense.js";
import { embeddingModule } from "./embedding.js";
import type { LayerModule, LayerModuleOf } from "./layer-module.js";
import { maxPool2dModule } from "./max-pool2d.js";
import { mulModule } from "./mul.js";
import { rescaleModule } from "./rescale.js";
import { sumPool2dModule } from "./sum-pool2d.js";

/** Every layer kind's module: the one table a new kind is added to. */
export const LAYER_MODULES: { readonly [K in QuantizedLayerKind]: LayerModuleOf<K> } = {
  dense: denseModule,
  conv2d: conv2dModule,
  sumPool2d: sumPool2dModule,
  rescale: rescaleModule,
  maxPool2d: maxPool2dModule,
  add: addModule,
  concat: concatModule,
  mul: mulModule,
  embedding: embeddingModule,
};

/** The module of a layer. */
export function moduleOf(layer: QuantizedLayer): LayerModule {
  return LAYER_MODULES[layer.kind] as unknown as LayerModule;
}
