/**
 * The feature-matrix type every analysis takes: row-major `rows` stimuli (or points) × `cols` features.
 * @module
 */

/** A row-major matrix of `rows` × `cols` values (row r = stimulus r). */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array | Float64Array;
}

/**
 * Wraps `data` as a `rows` × `cols` matrix, checking the sizes and that every value is finite (a NaN would
 * silently poison every distance it touches).
 *
 * @example
 * ```ts
 * const x = matrix(2, 3, new Float32Array([1, 2, 3, 4, 5, 6]));
 * ```
 */
export function matrix(
  rows: number,
  cols: number,
  data: Float32Array | Float64Array,
  name = "matrix",
): Matrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) {
    throw new RangeError(`${name}: shape [${rows}, ${cols}] is not a non-empty 2-D shape`);
  }
  if (data.length !== rows * cols) {
    throw new RangeError(`${name}: ${data.length} values do not fill [${rows}, ${cols}]`);
  }
  const bad = data.findIndex((value) => !Number.isFinite(value));
  if (bad >= 0) {
    throw new RangeError(
      `${name}: value ${data[bad]} at row ${Math.floor(bad / cols)}, column ${bad % cols} is not finite`,
    );
  }
  return { rows, cols, data };
}

/**
 * A float64 matrix from nested arrays (notebooks, tests).
 *
 * @example
 * ```ts
 * const x = fromRows([[1, 2, 3], [2, 0, 1]]); // 2 × 3
 * ```
 */
export function fromRows(rows: readonly (readonly number[])[], name = "matrix"): Matrix {
  const cols = rows[0]?.length ?? 0;
  if (rows.some((row) => row.length !== cols)) throw new RangeError(`${name}: rows differ in length`);
  return matrix(rows.length, cols, Float64Array.from(rows.flat()), name);
}

/** The rows listed in `indices`, as a new float64 matrix. */
export function selectRows(x: Matrix, indices: ArrayLike<number>): Matrix {
  const out = new Float64Array(indices.length * x.cols);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    out.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), i * x.cols);
  }
  return { rows: indices.length, cols: x.cols, data: out };
}

/** A float64 copy of `x` with every column's mean (over rows) subtracted. */
export function centreColumns(x: Matrix): Matrix {
  const { rows, cols } = x;
  const mean = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += x.data[r * cols + c];
  for (let c = 0; c < cols; c++) mean[c] /= rows;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = x.data[r * cols + c] - mean[c];
  }
  return { rows, cols, data: out };
}
