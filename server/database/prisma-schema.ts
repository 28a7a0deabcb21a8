/**
 * A reader for the parts of schema.prisma that decide the database shape: models with their
 * scalar fields, enums, and @@map/@map names. Used by the drift check, since Prisma's own
 * diff needs a schema engine binary that cannot be downloaded here.
 */
export interface SchemaField {
  name: string;
  column: string;
  type: string;
  isOptional: boolean;
  isList: boolean;
  dbType: string | null;
  isId: boolean;
  isUnique: boolean;
}

export interface SchemaModel {
  name: string;
  table: string;
  fields: SchemaField[];
  /** Column lists of @@unique and @@id. */
  uniques: string[][];
  primaryKey: string[];
}

export interface SchemaEnum {
  name: string;
  dbName: string;
  values: string[];
}

export interface ParsedSchema {
  models: SchemaModel[];
  enums: SchemaEnum[];
}

const SCALARS = new Set(['String', 'Int', 'BigInt', 'Float', 'Decimal', 'Boolean', 'DateTime', 'Json', 'Bytes']);

function blocks(source: string, keyword: 'model' | 'enum'): { name: string; body: string[] }[] {
  const out: { name: string; body: string[] }[] = [];
  const pattern = new RegExp(`^${keyword}\\s+(\\w+)\\s*\\{([\\s\\S]*?)^\\}`, 'gm');
  for (const match of source.matchAll(pattern)) {
    const body = match[2]!
      .split('\n')
      .map((line) => line.replace(/\/\/.*$/, '').trim())
      .filter(Boolean);
    out.push({ name: match[1]!, body });
  }
  return out;
}

function mapped(attributes: string, attribute: '@map' | '@@map'): string | null {
  const match = new RegExp(`${attribute}\\(\\s*(?:name:\\s*)?"([^"]+)"`).exec(attributes);
  return match ? match[1]! : null;
}

export function parsePrismaSchema(source: string): ParsedSchema {
  const enums = blocks(source, 'enum').map(({ name, body }) => ({
    name,
    dbName: body.map((l) => mapped(l, '@@map')).find(Boolean) ?? name,
    values: body.filter((l) => !l.startsWith('@@')).map((l) => l.split(/\s+/)[0]!),
  }));
  const enumNames = new Set(enums.map((e) => e.name));
  const models = blocks(source, 'model').map(({ name, body }) => {
    const fields: SchemaField[] = [];
    const uniques: string[][] = [];
    let primaryKey: string[] = [];
    let table = name;
    const columnOf = new Map<string, string>();
    const blockAttributes: string[] = [];
    for (const line of body) {
      if (line.startsWith('@@')) {
        blockAttributes.push(line);
        continue;
      }
      const match = /^(\w+)\s+(\w+)(\[\])?(\?)?\s*(.*)$/.exec(line);
      if (!match) continue;
      const [, fieldName, type, list, optional, attributes] = match as unknown as [string, string, string, string | undefined, string | undefined, string];
      if (!SCALARS.has(type) && !enumNames.has(type)) continue; // relation field
      const column = mapped(attributes, '@map') ?? fieldName;
      columnOf.set(fieldName, column);
      fields.push({
        name: fieldName,
        column,
        type,
        isOptional: Boolean(optional),
        isList: Boolean(list),
        dbType: /@db\.(\w+(?:\([^)]*\))?)/.exec(attributes)?.[1] ?? null,
        isId: /@id\b/.test(attributes),
        isUnique: /@unique\b/.test(attributes),
      });
    }
    const columns = (list: string) => list.split(',').map((f) => columnOf.get(f.trim().split(/[\s(]/)[0]!) ?? f.trim());
    for (const attribute of blockAttributes) {
      table = mapped(attribute, '@@map') ?? table;
      const unique = /^@@unique\(\s*(?:fields:\s*)?\[([^\]]+)\]/.exec(attribute);
      if (unique) uniques.push(columns(unique[1]!));
      const id = /^@@id\(\s*(?:fields:\s*)?\[([^\]]+)\]/.exec(attribute);
      if (id) primaryKey = columns(id[1]!);
    }
    if (primaryKey.length === 0) primaryKey = fields.filter((f) => f.isId).map((f) => f.column);
    for (const field of fields) if (field.isUnique) uniques.push([field.column]);
    return { name, table, fields, uniques, primaryKey };
  });
  return { models, enums };
}

/** The PostgreSQL type (as information_schema's udt_name) a Prisma field maps to. */
export function expectedUdt(field: SchemaField, enums: SchemaEnum[]): string {
  const enumType = enums.find((e) => e.name === field.type);
  const base = enumType
    ? enumType.dbName
    : field.dbType
      ? ({ Uuid: 'uuid', Timestamptz: 'timestamptz', Timestamp: 'timestamp', VarChar: 'varchar', Text: 'text', Char: 'bpchar', SmallInt: 'int2', Integer: 'int4', BigInt: 'int8', Inet: 'inet', JsonB: 'jsonb', Json: 'json', ByteA: 'bytea', Date: 'date', Citext: 'citext', DoublePrecision: 'float8', Real: 'float4', Decimal: 'numeric', Boolean: 'bool' } as Record<string, string>)[field.dbType.replace(/\(.*$/, '')] ?? field.dbType.toLowerCase()
      : ({ String: 'text', Int: 'int4', BigInt: 'int8', Float: 'float8', Decimal: 'numeric', Boolean: 'bool', DateTime: 'timestamp', Json: 'jsonb', Bytes: 'bytea' } as Record<string, string>)[field.type]!;
  return field.isList ? `_${base}` : base;
}
