/** One line of the benchmark table: a figure, and the reference it is compared with in the same run. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** The reference measured in the same run on the same machine (nginx, bare SQLite, bare socket.io, …). */
  reference?: { name: string; value: number };
  /** value / reference.value (or its inverse for "lower is better"); printed as ×. */
  ratio?: number;
  /** The target, e.g. "≥ 0.3× nginx", and whether it was met. */
  target?: string;
  met?: boolean;
  notes?: string;
}

export type Bench = () => Promise<BenchRow[]>;
