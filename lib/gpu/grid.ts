/**
 * Spreads a 1-D launch over a 2-D grid so it never exceeds the 65535-workgroups-per-dimension limit. Kernels
 * rebuild the linear index as `gid.x + gid.y * num_workgroups.x * WORKGROUP_SIZE`.
 * @module
 */
const MAX_PER_DIMENSION = 65535;

/** Grid for `count` invocations of a workgroup of `size` threads. */
export function grid1d(count: number, size = 256): [number, number] {
  const groups = Math.ceil(count / size);
  if (groups <= MAX_PER_DIMENSION) return [groups, 1];
  const rows = Math.ceil(groups / MAX_PER_DIMENSION);
  return [Math.ceil(groups / rows), rows];
}
