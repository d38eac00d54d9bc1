/**
 * Files: safetensors reading and writing (f32, f16, bf16, integer dtypes; metadata such as the model config
 * under {@link CONFIG_METADATA_KEY}), and atomic writes (temporary file, then rename), so a killed run never
 * leaves a file that looks complete; a folder's content fingerprint.
 *
 * @example Round-trip a tensor through safetensors bytes
 * ```ts
 * import { encodeSafetensors, parseSafetensors } from "./mod.ts";
 * const bytes = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });
 * console.log(parseSafetensors(bytes).tensors.get("w")?.shape); // [2]
 * ```
 * @module
 */
export {
  checkStateDict,
  CONFIG_METADATA_KEY,
  type Dtype,
  encodeSafetensors,
  parseSafetensors,
  readConfig,
  readSafetensors,
  type Safetensors,
  SafetensorsError,
  type Tensor,
  type TensorData,
  type TensorInput,
  type WriteOptions,
  writeSafetensors,
} from "./safetensors.ts";
export { withAtomicPath, writeFileAtomic } from "./atomic.ts";
export { folderFingerprint } from "./fingerprint.ts";
