import type pg from 'pg';
import { expectedUdt, type ParsedSchema } from './prisma-schema';

interface ColumnRow {
  table_name: string;
  column_name: string;
  udt_name: string;
  is_nullable: 'YES' | 'NO';
}

/**
 * Every way the migrated database differs from schema.prisma: missing or extra tables and
 * columns, other types or nullability, missing primary keys or unique indexes, enum values.
 * Empty when they agree.
 */
export async function schemaDrift(client: pg.Client, schema: ParsedSchema): Promise<string[]> {
  const problems: string[] = [];
  const { rows: columns } = await client.query<ColumnRow>(
    `SELECT table_name, column_name, udt_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public'`,
  );
  const { rows: indexes } = await client.query<{ table_name: string; columns: string[]; is_unique: boolean; is_primary: boolean }>(
    `SELECT t.relname::text AS table_name, i.indisunique AS is_unique, i.indisprimary AS is_primary,
            array_agg(a.attname::text ORDER BY k.ordinality) AS columns
       FROM pg_index i
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ordinality)
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
      GROUP BY t.relname, i.indexrelid, i.indisunique, i.indisprimary`,
  );
  const { rows: enumRows } = await client.query<{ name: string; values: string[] }>(
    `SELECT t.typname::text AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
       JOIN pg_namespace n ON n.oid = t.typnamespace AND n.nspname = 'public'
      GROUP BY t.typname`,
  );

  const tables = new Map<string, ColumnRow[]>();
  for (const column of columns) tables.set(column.table_name, [...(tables.get(column.table_name) ?? []), column]);

  for (const model of schema.models) {
    const tableColumns = tables.get(model.table);
    if (!tableColumns) {
      problems.push(`table ${model.table} (model ${model.name}) is missing`);
      continue;
    }
    for (const field of model.fields) {
      const column = tableColumns.find((c) => c.column_name === field.column);
      if (!column) {
        problems.push(`${model.table}.${field.column} (${model.name}.${field.name}) is missing`);
        continue;
      }
      const udt = expectedUdt(field, schema.enums);
      if (column.udt_name !== udt) problems.push(`${model.table}.${field.column} is ${column.udt_name}, the schema says ${udt}`);
      const nullable = column.is_nullable === 'YES';
      if (nullable !== field.isOptional) {
        problems.push(`${model.table}.${field.column} is ${nullable ? 'nullable' : 'NOT NULL'}, the schema says ${field.isOptional ? 'optional' : 'required'}`);
      }
    }
    for (const column of tableColumns) {
      if (!model.fields.some((f) => f.column === column.column_name)) problems.push(`${model.table}.${column.column_name} is not in the schema`);
    }
    const tableIndexes = indexes.filter((i) => i.table_name === model.table);
    const same = (a: string[], b: string[]) => a.length === b.length && a.every((c, i) => c === b[i]);
    if (!tableIndexes.some((i) => i.is_primary && same(i.columns, model.primaryKey))) {
      problems.push(`${model.table} has no primary key on (${model.primaryKey.join(', ')})`);
    }
    for (const unique of model.uniques) {
      if (!tableIndexes.some((i) => i.is_unique && same(i.columns, unique))) problems.push(`${model.table} has no unique index on (${unique.join(', ')})`);
    }
  }
  const known = new Set(schema.models.map((m) => m.table));
  for (const table of tables.keys()) {
    if (table !== '_prisma_migrations' && !known.has(table)) problems.push(`table ${table} is not in the schema`);
  }
  for (const enumType of schema.enums) {
    const actual = enumRows.find((e) => e.name === enumType.dbName);
    if (!actual) problems.push(`enum ${enumType.dbName} is missing`);
    else if (actual.values.join(',') !== enumType.values.join(',')) {
      problems.push(`enum ${enumType.dbName} has (${actual.values.join(', ')}), the schema says (${enumType.values.join(', ')})`);
    }
  }
  return problems;
}
