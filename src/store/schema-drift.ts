/**
 * Schema drift checker: compares a live PostgreSQL schema (pg_catalog) with what
 * `schema.prisma` says Prisma's migrations would have created, and lists every difference:
 * missing or extra tables, columns, enums, indexes (primary keys, unique and plain) and foreign
 * keys, and columns whose type, nullability or default differ.
 *
 * `schema.prisma` is read offline through Prisma's own parser (`@prisma/prisma-schema-wasm`'s
 * DMMF), so the checker sees exactly what Prisma sees. Naming follows Prisma's defaults
 * (`Table_pkey`, `Table_col_key`, `Table_a_b_idx`, `Table_col_fkey`) unless `map:` overrides them.
 * Not covered: implicit many-to-many join tables, multi-schema, views and index sort orders.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import schemaWasm from '@prisma/prisma-schema-wasm';
import pg from 'pg';

/** Default schema file: `<repo>/prisma/schema.prisma`. */
export const DEFAULT_SCHEMA_PATH = fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url));

/** Tables that exist for the tooling, not the data model. */
const IGNORED_TABLES = new Set(['_prisma_migrations']);

export type DifferenceKind =
  | 'missing_table'
  | 'extra_table'
  | 'missing_column'
  | 'extra_column'
  | 'column_type'
  | 'column_nullability'
  | 'column_default'
  | 'missing_index'
  | 'extra_index'
  | 'index_definition'
  | 'missing_foreign_key'
  | 'extra_foreign_key'
  | 'foreign_key_definition'
  | 'extra_constraint'
  | 'missing_enum'
  | 'extra_enum'
  | 'enum_values';

/** One way the database differs from the schema. */
export interface SchemaDifference {
  kind: DifferenceKind;
  table?: string;
  column?: string;
  /** Index, constraint or enum name. */
  name?: string;
  expected?: string;
  actual?: string;
  message: string;
}

export interface ColumnShape {
  /** As `format_type()` prints it, without identifier quotes (`text`, `timestamp(3) with time zone`, `UserRole`, `text[]`). */
  type: string;
  nullable: boolean;
  /** Normalised default expression, `autoincrement` for sequences, or null. */
  default: string | null;
}

export interface IndexShape {
  columns: string[];
  unique: boolean;
  primary: boolean;
}

export interface ForeignKeyShape {
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: ReferentialAction;
  onUpdate: ReferentialAction;
}

export type ReferentialAction = 'CASCADE' | 'RESTRICT' | 'NO ACTION' | 'SET NULL' | 'SET DEFAULT';

export interface TableShape {
  columns: Map<string, ColumnShape>;
  indexes: Map<string, IndexShape>;
  foreignKeys: Map<string, ForeignKeyShape>;
  /** Other constraints (CHECK, EXCLUDE): Prisma creates none. */
  otherConstraints: string[];
}

/** A database schema reduced to what the comparison looks at. */
export interface SchemaShape {
  enums: Map<string, string[]>;
  tables: Map<string, TableShape>;
}

// ---------------------------------------------------------------------------------------------
// schema.prisma -> expected shape

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  isList: boolean;
  isRequired: boolean;
  isUpdatedAt: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  default?: unknown;
  hasDefaultValue: boolean;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}

interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}

interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  dbName?: string | null;
  fields: Array<{ name: string }>;
}

interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: Array<{ name: string; dbName?: string | null }>;
}

interface Datamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  indexes: DmmfIndex[];
}

/** Parses schema text with Prisma's WASM parser. Throws with Prisma's validation message. */
export function parseDatamodel(schemaText: string): Datamodel {
  let raw: string;
  try {
    raw = schemaWasm.get_dmmf(JSON.stringify({ prismaSchema: [['schema.prisma', schemaText]] }));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`schema.prisma is not valid: ${message}`, { cause: error });
  }
  return (JSON.parse(raw) as { datamodel: Datamodel }).datamodel;
}

const CLIENT_SIDE_DEFAULTS = new Set(['uuid', 'cuid', 'nanoid', 'ulid']);

function sqlLiteral(value: unknown): string {
  if (typeof value === 'string') return `'${value.replace(/'/g, "''")}'`;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return `'${JSON.stringify(value).replace(/'/g, "''")}'`;
}

function expectedDefault(field: DmmfField): string | null {
  if (!field.hasDefaultValue || field.default === undefined) return null;
  const d = field.default;
  if (Array.isArray(d)) return `ARRAY[${d.map(sqlLiteral).join(', ')}]`;
  if (d !== null && typeof d === 'object' && 'name' in d) {
    const fn = d as { name: string; args?: unknown[] };
    if (fn.name === 'autoincrement') return 'autoincrement';
    if (fn.name === 'now') return 'CURRENT_TIMESTAMP';
    if (fn.name === 'dbgenerated') return typeof fn.args?.[0] === 'string' ? normaliseDefault(fn.args[0]) : null;
    if (CLIENT_SIDE_DEFAULTS.has(fn.name)) return null;
    return `${fn.name}()`;
  }
  return normaliseDefault(sqlLiteral(d));
}

function nativeTypeName(field: DmmfField): string | null {
  const native = field.nativeType;
  if (!native) return null;
  const [name, args] = native;
  const withArgs = (base: string, suffix = ''): string => (args.length > 0 ? `${base}(${args.join(',')})${suffix}` : `${base}${suffix}`);
  switch (name) {
    case 'Text': return 'text';
    case 'VarChar': return withArgs('character varying');
    case 'Char': return withArgs('character');
    case 'Uuid': return 'uuid';
    case 'Xml': return 'xml';
    case 'Inet': return 'inet';
    case 'Citext': return 'citext';
    case 'Bit': return withArgs('bit');
    case 'VarBit': return withArgs('bit varying');
    case 'Integer': return 'integer';
    case 'SmallInt': return 'smallint';
    case 'Oid': return 'oid';
    case 'BigInt': return 'bigint';
    case 'Real': return 'real';
    case 'DoublePrecision': return 'double precision';
    case 'Decimal': return withArgs('numeric');
    case 'Money': return 'money';
    case 'Boolean': return 'boolean';
    case 'Timestamp': return withArgs('timestamp', ' without time zone');
    case 'Timestamptz': return withArgs('timestamp', ' with time zone');
    case 'Date': return 'date';
    case 'Time': return withArgs('time', ' without time zone');
    case 'Timetz': return withArgs('time', ' with time zone');
    case 'Json': return 'json';
    case 'JsonB': return 'jsonb';
    case 'ByteA': return 'bytea';
    default: return name.toLowerCase();
  }
}

const DEFAULT_SCALAR_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  Boolean: 'boolean',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

function expectedType(field: DmmfField, enumDbNames: Map<string, string>): string {
  let base: string;
  if (field.kind === 'enum') base = enumDbNames.get(field.type) ?? field.type;
  else base = nativeTypeName(field) ?? DEFAULT_SCALAR_TYPES[field.type] ?? field.type.toLowerCase();
  return field.isList ? `${base}[]` : base;
}

function referentialAction(value: string | undefined, fallback: ReferentialAction): ReferentialAction {
  switch (value) {
    case 'Cascade': return 'CASCADE';
    case 'Restrict': return 'RESTRICT';
    case 'NoAction': return 'NO ACTION';
    case 'SetNull': return 'SET NULL';
    case 'SetDefault': return 'SET DEFAULT';
    default: return fallback;
  }
}

/** PostgreSQL truncates identifiers to 63 bytes; so does Prisma's default naming. */
function identifier(name: string): string {
  return name.length > 63 ? name.slice(0, 63) : name;
}

/** What a database migrated from this schema text must look like. */
export function expectedShape(schemaText: string): SchemaShape {
  const dm = parseDatamodel(schemaText);
  const enumDbNames = new Map(dm.enums.map((e) => [e.name, e.dbName ?? e.name]));
  const shape: SchemaShape = { enums: new Map(), tables: new Map() };
  for (const e of dm.enums) shape.enums.set(e.dbName ?? e.name, e.values.map((v) => v.dbName ?? v.name));

  const models = new Map(dm.models.map((m) => [m.name, m]));
  const tableOf = (model: DmmfModel): string => model.dbName ?? model.name;
  const columnOf = (model: DmmfModel, fieldName: string): string => {
    const field = model.fields.find((f) => f.name === fieldName);
    return field?.dbName ?? fieldName;
  };

  for (const model of dm.models) {
    const table = tableOf(model);
    const t: TableShape = { columns: new Map(), indexes: new Map(), foreignKeys: new Map(), otherConstraints: [] };
    shape.tables.set(table, t);
    for (const field of model.fields) {
      if (field.kind === 'object') {
        const from = field.relationFromFields ?? [];
        if (from.length === 0) continue;
        const target = models.get(field.type);
        if (!target) continue;
        const columns = from.map((f) => columnOf(model, f));
        const optional = from.some((f) => model.fields.find((x) => x.name === f)?.isRequired === false);
        t.foreignKeys.set(identifier(`${table}_${columns.join('_')}_fkey`), {
          columns,
          refTable: tableOf(target),
          refColumns: (field.relationToFields ?? []).map((f) => columnOf(target, f)),
          onDelete: referentialAction(field.relationOnDelete, optional ? 'SET NULL' : 'RESTRICT'),
          onUpdate: referentialAction(field.relationOnUpdate, 'CASCADE'),
        });
        continue;
      }
      t.columns.set(field.dbName ?? field.name, {
        type: expectedType(field, enumDbNames),
        // Prisma never makes list columns NOT NULL.
        nullable: field.isList || !field.isRequired,
        default: expectedDefault(field),
      });
    }
  }

  for (const index of dm.indexes) {
    const model = models.get(index.model);
    if (!model || index.type === 'fulltext') continue;
    const table = tableOf(model);
    const columns = index.fields.map((f) => columnOf(model, f.name));
    const suffix = index.type === 'id' ? 'pkey' : index.type === 'unique' ? 'key' : 'idx';
    const defaultName = index.type === 'id' ? `${table}_pkey` : `${table}_${columns.join('_')}_${suffix}`;
    shape.tables.get(table)?.indexes.set(identifier(index.dbName ?? defaultName), {
      columns,
      unique: index.type !== 'normal',
      primary: index.type === 'id',
    });
  }
  return shape;
}

// ---------------------------------------------------------------------------------------------
// live database -> shape

/** Normalises a default expression so Prisma's and PostgreSQL's spellings compare equal. */
export function normaliseDefault(expr: string): string {
  let s = expr.trim();
  if (/^nextval\(/i.test(s)) return 'autoincrement';
  if (/^(now\(\)|current_timestamp)$/i.test(s)) return 'CURRENT_TIMESTAMP';
  // Drop casts such as ::text, ::"UserRole", ::jsonb, ::text[], ::character varying(20).
  s = s.replace(/::(?:"[^"]+"|[a-zA-Z_][\w ]*?)(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])*(?=$|[\s,)\]])/g, '');
  const quotedNumber = /^'(-?\d+(?:\.\d+)?)'$/.exec(s);
  if (quotedNumber?.[1] !== undefined) return quotedNumber[1];
  const parenthesised = /^\((.*)\)$/.exec(s);
  if (parenthesised?.[1] !== undefined && /^-?\d+(\.\d+)?$/.test(parenthesised[1])) return parenthesised[1];
  return s;
}

const FK_ACTIONS: Record<string, ReferentialAction> = {
  a: 'NO ACTION',
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
};

/** Reads the shape of one PostgreSQL schema (default `public`) over an open connection. */
export async function readLiveShape(client: pg.ClientBase, schema = 'public'): Promise<SchemaShape> {
  const shape: SchemaShape = { enums: new Map(), tables: new Map() };
  const table = (name: string): TableShape => {
    let t = shape.tables.get(name);
    if (!t) {
      t = { columns: new Map(), indexes: new Map(), foreignKeys: new Map(), otherConstraints: [] };
      shape.tables.set(name, t);
    }
    return t;
  };

  const enums = await client.query<{ name: string; labels: string[] }>(
    `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)::text[] AS labels
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = $1 GROUP BY t.typname`,
    [schema],
  );
  for (const row of enums.rows) shape.enums.set(row.name, row.labels);

  const tables = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')`,
    [schema],
  );
  for (const row of tables.rows) if (!IGNORED_TABLES.has(row.name)) table(row.name);

  const columns = await client.query<{ table: string; column: string; type: string; nullable: boolean; default: string | null }>(
    `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
            NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS default
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY c.relname, a.attnum`,
    [schema],
  );
  for (const row of columns.rows) {
    if (IGNORED_TABLES.has(row.table)) continue;
    table(row.table).columns.set(row.column, {
      type: row.type.replace(/"/g, ''),
      nullable: row.nullable,
      default: row.default === null ? null : normaliseDefault(row.default),
    });
  }

  const indexes = await client.query<{ table: string; name: string; unique: boolean; primary: boolean; columns: string[] }>(
    `SELECT t.relname AS table, i.relname AS name, ix.indisunique AS unique, ix.indisprimary AS primary,
            array(SELECT coalesce(a.attname::text, '<expression>')
                    FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
                    LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                   ORDER BY k.ord)::text[] AS columns
       FROM pg_index ix
       JOIN pg_class i ON i.oid = ix.indexrelid
       JOIN pg_class t ON t.oid = ix.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 AND t.relkind IN ('r', 'p')`,
    [schema],
  );
  for (const row of indexes.rows) {
    if (IGNORED_TABLES.has(row.table)) continue;
    table(row.table).indexes.set(row.name, { columns: row.columns, unique: row.unique, primary: row.primary });
  }

  const constraints = await client.query<{
    table: string;
    name: string;
    type: string;
    ref_table: string | null;
    on_delete: string;
    on_update: string;
    columns: string[];
    ref_columns: string[];
  }>(
    `SELECT t.relname AS table, c.conname AS name, c.contype AS type, rt.relname AS ref_table,
            c.confdeltype AS on_delete, c.confupdtype AS on_update,
            array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns,
            array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS ref_columns
       FROM pg_constraint c
       JOIN pg_class t ON t.oid = c.conrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       LEFT JOIN pg_class rt ON rt.oid = c.confrelid
      WHERE n.nspname = $1 AND c.contype IN ('f', 'c', 'x', 't')`,
    [schema],
  );
  for (const row of constraints.rows) {
    if (IGNORED_TABLES.has(row.table)) continue;
    const t = table(row.table);
    if (row.type === 'f') {
      t.foreignKeys.set(row.name, {
        columns: row.columns,
        refTable: row.ref_table ?? '?',
        refColumns: row.ref_columns,
        onDelete: FK_ACTIONS[row.on_delete] ?? 'NO ACTION',
        onUpdate: FK_ACTIONS[row.on_update] ?? 'NO ACTION',
      });
    } else {
      t.otherConstraints.push(row.name);
    }
  }
  return shape;
}

// ---------------------------------------------------------------------------------------------
// comparison

const show = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

function describeIndex(i: IndexShape): string {
  return `${i.primary ? 'PRIMARY KEY' : i.unique ? 'UNIQUE' : 'INDEX'} (${i.columns.join(', ')})`;
}

function describeForeignKey(fk: ForeignKeyShape): string {
  return `(${fk.columns.join(', ')}) REFERENCES ${fk.refTable}(${fk.refColumns.join(', ')}) ON DELETE ${fk.onDelete} ON UPDATE ${fk.onUpdate}`;
}

/** Every difference between what the schema expects and what the database has. */
export function diffShapes(expected: SchemaShape, actual: SchemaShape): SchemaDifference[] {
  const out: SchemaDifference[] = [];

  for (const [name, values] of expected.enums) {
    const live = actual.enums.get(name);
    if (!live) out.push({ kind: 'missing_enum', name, message: `enum ${name} is missing` });
    else if (show(live) !== show(values)) {
      out.push({ kind: 'enum_values', name, expected: show(values), actual: show(live), message: `enum ${name} has values ${show(live)}, expected ${show(values)}` });
    }
  }
  for (const name of actual.enums.keys()) {
    if (!expected.enums.has(name)) out.push({ kind: 'extra_enum', name, message: `enum ${name} is not in schema.prisma` });
  }

  for (const [tableName, exp] of expected.tables) {
    const live = actual.tables.get(tableName);
    if (!live) {
      out.push({ kind: 'missing_table', table: tableName, message: `table ${tableName} is missing` });
      continue;
    }
    for (const [column, col] of exp.columns) {
      const l = live.columns.get(column);
      const where = `${tableName}.${column}`;
      if (!l) {
        out.push({ kind: 'missing_column', table: tableName, column, expected: col.type, message: `column ${where} is missing` });
        continue;
      }
      if (l.type !== col.type) {
        out.push({ kind: 'column_type', table: tableName, column, expected: col.type, actual: l.type, message: `column ${where} has type ${l.type}, expected ${col.type}` });
      }
      if (l.nullable !== col.nullable) {
        const word = (n: boolean): string => (n ? 'NULL' : 'NOT NULL');
        out.push({ kind: 'column_nullability', table: tableName, column, expected: word(col.nullable), actual: word(l.nullable), message: `column ${where} is ${word(l.nullable)}, expected ${word(col.nullable)}` });
      }
      if (l.default !== col.default) {
        out.push({ kind: 'column_default', table: tableName, column, expected: col.default ?? 'none', actual: l.default ?? 'none', message: `column ${where} has default ${l.default ?? 'none'}, expected ${col.default ?? 'none'}` });
      }
    }
    for (const column of live.columns.keys()) {
      if (!exp.columns.has(column)) out.push({ kind: 'extra_column', table: tableName, column, message: `column ${tableName}.${column} is not in schema.prisma` });
    }
    for (const [name, index] of exp.indexes) {
      const l = live.indexes.get(name);
      if (!l) out.push({ kind: 'missing_index', table: tableName, name, expected: describeIndex(index), message: `index ${name} ${describeIndex(index)} on ${tableName} is missing` });
      else if (describeIndex(l) !== describeIndex(index)) {
        out.push({ kind: 'index_definition', table: tableName, name, expected: describeIndex(index), actual: describeIndex(l), message: `index ${name} is ${describeIndex(l)}, expected ${describeIndex(index)}` });
      }
    }
    for (const [name, index] of live.indexes) {
      if (!exp.indexes.has(name)) out.push({ kind: 'extra_index', table: tableName, name, actual: describeIndex(index), message: `index ${name} ${describeIndex(index)} on ${tableName} is not in schema.prisma` });
    }
    for (const [name, fk] of exp.foreignKeys) {
      const l = live.foreignKeys.get(name);
      if (!l) out.push({ kind: 'missing_foreign_key', table: tableName, name, expected: describeForeignKey(fk), message: `foreign key ${name} on ${tableName} is missing` });
      else if (describeForeignKey(l) !== describeForeignKey(fk)) {
        out.push({ kind: 'foreign_key_definition', table: tableName, name, expected: describeForeignKey(fk), actual: describeForeignKey(l), message: `foreign key ${name} is ${describeForeignKey(l)}, expected ${describeForeignKey(fk)}` });
      }
    }
    for (const name of live.foreignKeys.keys()) {
      if (!exp.foreignKeys.has(name)) out.push({ kind: 'extra_foreign_key', table: tableName, name, message: `foreign key ${name} on ${tableName} is not in schema.prisma` });
    }
    for (const name of live.otherConstraints) {
      out.push({ kind: 'extra_constraint', table: tableName, name, message: `constraint ${name} on ${tableName} is not in schema.prisma` });
    }
  }
  for (const tableName of actual.tables.keys()) {
    if (!expected.tables.has(tableName)) out.push({ kind: 'extra_table', table: tableName, message: `table ${tableName} is not in schema.prisma` });
  }
  return out;
}

export interface DriftCheckOptions {
  databaseUrl: string;
  /** Schema text; when omitted, read from `schemaPath`. */
  schemaText?: string;
  /** Defaults to `prisma/schema.prisma`. */
  schemaPath?: string;
  /** PostgreSQL schema to inspect. Defaults to `public`. */
  dbSchema?: string;
}

/** Compares the live database with schema.prisma; an empty list means no drift. */
export async function checkSchemaDrift(options: DriftCheckOptions): Promise<SchemaDifference[]> {
  const text = options.schemaText ?? (await readFile(options.schemaPath ?? DEFAULT_SCHEMA_PATH, 'utf8'));
  const expected = expectedShape(text);
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    return diffShapes(expected, await readLiveShape(client, options.dbSchema ?? 'public'));
  } finally {
    await client.end().catch(() => undefined);
  }
}
