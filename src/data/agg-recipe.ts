/**
 * An aggregation as plain data: a built-in's function name and arguments, or a custom one's
 * shipped functions. An aggregation's accumulator is a closure, which does not travel to workers;
 * its recipe does, and a worker makes the aggregation again from it (agg.ts fromRecipe). A module of its own so that the declarations
 * of the exchange tasks need nothing internal of agg.ts.
 */
export type BuiltInName = "count" | "sum" | "min" | "max" | "mean" | "std" | "absMax" | "quantile" | "unique";
/** A custom aggregation travels as its name and its functions, each shipped (util.shipFunction) as UDFs are. */
export type AggRecipe =
  | { readonly fn: BuiltInName; readonly args: readonly unknown[] }
  | { readonly fn: "custom"; readonly args: readonly [name: string, functions: Readonly<Record<"init" | "accumulateRow" | "merge" | "finalize", unknown>>] };
