/**
 * Tables of one output (the files of a read task, bundled blocks, the pieces of a partition) as
 * one table. Their schemas need not agree exactly, since each was typed from its own values: a
 * column missing from a table, or all null there (typed Null, since nothing told its type), is
 * filled with nulls of the type the others give it; a column of integers in one table and of
 * floats in another becomes Float64, as Arrow's readers promote numbers. Columns of other
 * differing types are an error naming the column, never a reinterpretation of its bytes.
 */
import { Field, Float64, makeBuilder, makeVector, Schema, Table, Type, vectorFromArray, type Data, type DataType } from "apache-arrow";
import { batchOf } from "./take-rows.js";

export function concatTables(tables: readonly Table[]): Table {
  const nonEmpty = tables.filter((t) => t.numRows > 0 && t.schema.fields.length > 0);
  if (nonEmpty.length === 0) return tables.find((t) => t.schema.fields.length > 0)?.slice(0, 0) ?? tables[0] ?? new Table();
  // Empty tables count for the schema: an empty piece of a block still tells its columns' types.
  const schema = unifiedSchema(tables.filter((t) => t.schema.fields.length > 0));
  if (nonEmpty.length === 1 && sameSchema(schema, nonEmpty[0]!.schema)) return nonEmpty[0]!;
  const batches = nonEmpty.flatMap((table) => table.batches.map((batch) => batchOf(schema, schema.fields.map((field) => {
    const column = batch.getChild(field.name);
    if (column === null || column.type.typeId === Type.Null) return allNulls(field.type, batch.numRows);
    return column.type.typeId === field.type.typeId || field.type.typeId !== Type.Float ? column.data[0]! : asFloat64(column.data[0]!);
  }), batch.numRows)));
  return new Table(schema, batches);
}

/** Every column of the tables in order of first appearance, each with the one type its tables agree on. */
function unifiedSchema(tables: readonly Table[]): Schema {
  const fields = new Map<string, Field>();
  for (const table of tables) {
    for (const field of table.schema.fields) {
      const known = fields.get(field.name);
      if (known === undefined || known.type.typeId === Type.Null) fields.set(field.name, known ? new Field(field.name, field.type, true, field.metadata) : field);
      else if (field.type.typeId !== Type.Null && String(known.type) !== String(field.type)) {
        if (!isNumber(known.type) || !isNumber(field.type)) {
          throw new TypeError(`column '${field.name}' is ${String(known.type)} in some rows and ${String(field.type)} in others`);
        }
        fields.set(field.name, new Field(field.name, new Float64(), true, known.metadata));
      }
    }
  }
  const schema = [...fields.values()];
  return new Schema(schema.map((f) => (tables.every((t) => t.schema.fields.some((g) => g.name === f.name)) ? f : new Field(f.name, f.type, true, f.metadata))));
}

function isNumber(type: DataType): boolean {
  return type.typeId === Type.Int || type.typeId === Type.Float;
}

function sameSchema(a: Schema, b: Schema): boolean {
  return a.fields.length === b.fields.length && a.fields.every((f, i) => f.name === b.fields[i]!.name && String(f.type) === String(b.fields[i]!.type));
}

function allNulls(type: DataType, length: number): Data {
  const builder = makeBuilder({ type, nullValues: [null] });
  for (let i = 0; i < length; i++) builder.append(null);
  return builder.finish().flush();
}

/** An integer column as Float64 (Int64 values through Number, as Arrow casts them). */
function asFloat64(data: Data): Data {
  const vector = makeVector(data);
  const values = Array.from({ length: data.length }, (_, i) => {
    const v = vector.get(i) as number | bigint | null;
    return v === null ? null : Number(v);
  });
  return vectorFromArray(values, new Float64()).data[0]!;
}
