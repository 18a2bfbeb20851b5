// Creates the database named in DATABASE_URL if it does not exist yet (local runs only).
import pg from 'pg';

const url = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/incident_workflows');
const name = decodeURIComponent(url.pathname.slice(1));
const admin = new URL(url);
admin.pathname = '/postgres';
const client = new pg.Client({ connectionString: admin.toString() });
try {
  await client.connect();
  const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (rowCount === 0) {
    await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    console.log(`created database ${name}`);
  }
} catch (error) {
  console.error(`could not prepare database ${name}: ${error.message}`);
  process.exitCode = 1;
} finally {
  await client.end().catch(() => {});
}
